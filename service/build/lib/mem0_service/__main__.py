from mem0_service.cli import main

main()
