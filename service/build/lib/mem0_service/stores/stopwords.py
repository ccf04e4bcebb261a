"""Function words that carry no meaning for keyword matching, in English and Russian.

Left in, they make every memory a keyword match for "what did the user say about ..." and drown the words that
matter (measured on LoCoMo: recall@5 0.490 -> 0.519 and a third fewer unrelated turns above the threshold)."""

ENGLISH = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves s t don didn doesn isn wasn weren won wouldn ll ve re d m
""".split())

RUSSIAN = frozenset("""
а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для до его ее её если
есть еще ещё же за здесь и из или им их к как какая какие какой ко когда который кто ли либо между меня мне мной мы
на над надо нас не него нее неё нет ни них но ну о об однако он она они оно от очень по под при про с со так также
такой там те тем то того тоже той только том ты у уже хотя чего чей чем что чтобы чье чьё эта эти это этого этой этом
этот я
""".split())

STOPWORDS = ENGLISH | RUSSIAN
