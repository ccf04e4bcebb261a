// Runs n8n's community-package scanner on an unpacked package folder, offline.
//   node scan_package.mjs <scanner dir> <package dir> [glob ...]
// <scanner dir> holds node_modules/@n8n/scan-community-package. The scanner's command line downloads the
// package from the registry and checks its provenance; its analyzePackage() judges a local folder with the
// same ESLint rules. analyzePackage() reports errors only, so the same config is run once more through
// ESLint to count warnings. Prints one JSON line: {passed, message, errors, warnings, problems}.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const [scannerDir, packageDir, ...patterns] = process.argv.slice(2);
const scannerRoot = path.join(scannerDir, 'node_modules', '@n8n', 'scan-community-package');
const scanner = await import(pathToFileURL(path.join(scannerRoot, 'scanner', 'scanner.mjs')).href);
const scannerRequire = createRequire(path.join(scannerRoot, 'package.json'));
const { ESLint } = scannerRequire('eslint');
const glob = scannerRequire('fast-glob');
const filePatterns = patterns.length ? patterns : undefined;

const verdict = await scanner.analyzePackage(packageDir, filePatterns);
const eslint = new ESLint({
	cwd: packageDir,
	allowInlineConfig: false,
	overrideConfigFile: true,
	overrideConfig: await scanner.buildScanConfig(),
});
// the files analyzePackage() lints
const files = glob.sync(filePatterns ?? ['**/*.js', '**/*.ts', '**/*.json'], {
	cwd: packageDir,
	absolute: true,
	ignore: ['node_modules/**', '**/package-lock.json'],
});
const results = await eslint.lintFiles(files);
const problems = results.flatMap((r) =>
	r.messages.map((m) => ({
		file: path.relative(packageDir, r.filePath),
		line: m.line,
		rule: m.ruleId,
		severity: m.severity === 2 ? 'error' : 'warning',
		message: m.message,
	})),
);
console.log(
	JSON.stringify({
		passed: verdict.passed,
		message: verdict.message ?? '',
		errors: problems.filter((p) => p.severity === 'error').length,
		warnings: problems.filter((p) => p.severity === 'warning').length,
		problems,
	}),
);
