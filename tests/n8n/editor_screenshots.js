// Takes the editor screenshots of docs/images/ from a running n8n (see editor_screenshots.py).
// Usage: node editor_screenshots.js <n8n url> <email> <password> <jobs.json>
//   jobs.json: [{"path": "/workflow/<id>[/<nodeId>]", "output": "<png>", "clip": "canvas" | "ndv"}]
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');
const fs = require('fs');

const [url, email, password, jobsFile] = process.argv.slice(2);

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
			'--no-first-run'],
	});
	try {
		const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
		await page.goto(`${url}/signin`);
		await page.locator('input[type="email"], input[name="emailOrLdapLoginId"]').first().fill(email);
		await page.locator('input[type="password"]').first().fill(password);
		await page.keyboard.press('Enter');
		await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 30000 });
		for (const job of JSON.parse(fs.readFileSync(jobsFile, 'utf8'))) {
			await page.goto(`${url}${job.path}`);
			await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 30000 });
			if (job.clip === 'ndv') {
				// The node's URL opens its panel; if the editor has not done so yet, open it as a user would.
				const ndv = page.locator('[data-test-id="ndv"]').first();
				const opened = await ndv.waitFor({ timeout: 10000 }).then(() => true, () => false);
				if (!opened) {
					await page.locator(`[data-test-id="canvas-node"][data-node-name="${job.node}"]`).dblclick({ force: true });
					await ndv.waitFor({ timeout: 30000 });
				}
			} else {
				await page.keyboard.press('Shift+1'); // zoom to fit
			}
			await page.waitForTimeout(1500); // let icons and fonts settle
			await page.screenshot({ path: job.output });
			console.log(`wrote ${job.output}`);
		}
	} finally {
		await browser.close();
	}
})().catch((error) => {
	console.error(error);
	process.exit(1);
});
