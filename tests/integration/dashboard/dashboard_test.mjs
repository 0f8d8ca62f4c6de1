// The dashboard in a real browser (Debian's chromium, driven by
// playwright-core), as an operator uses it. Run by dashboard_test.sh, which
// starts the cluster and checks the DNS answers between the steps:
//
//   node dashboard_test.mjs --url http://ADMIN/ --token-file FILE --out DIR
//        --endpoint ADDR --sites a,b,c --endpoints x,y,z --service NAME --client IP
//        [--guarded-url http://ADMIN2/]
//
// --guarded-url is a node with admin.require_token_for_reads: its page
// must load, show nothing of the node, ask for the token, refuse a wrong
// one and show everything once given the right one.
//
// Protocol with the shell (stdout, one line each; everything else goes to
// stderr): "STEP drained" after the endpoint shows drained, "STEP restored"
// after it shows usable again; after each the script waits for a line on
// stdin ("continue") so the shell can ask DNS. "DONE" at the end. Any failed
// check exits 1 with the reason (and a screenshot of the moment).

import { readFileSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(join(here, "node_modules", "playwright-core", "index.mjs"));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const required of ["url", "token-file", "out", "endpoint", "sites", "endpoints", "service", "client"]) {
  if (!args[required]) {
    console.error(`dashboard_test.mjs: --${required} is missing`);
    process.exit(2);
  }
}
const base = new URL(args.url);
const token = readFileSync(args["token-file"], "utf8").trim();
const sites = args.sites.split(",");
const endpoints = args.endpoints.split(",");
const target = args.endpoint;
mkdirSync(args.out, { recursive: true });

const log = (text) => console.error(`[browser] ${text}`);
const shots = [];
let page = null;
let failed = false;

async function shot(name, target = page, options = {}) {
  const path = join(args.out, name + ".png");
  // A whole-page picture with the sticky header where it belongs (at the top).
  const header = options.fullPage ? (position) => target.evaluate((p) => {
    document.querySelector(".top").style.position = p;
  }, position) : async () => {};
  await header("static");
  await target.screenshot({ path, ...options });
  await header("");
  shots.push(path);
  log(`screenshot ${path}`);
}

function check(condition, what) {
  if (!condition) throw new Error(what);
}

/** Waits for `locator` (15 s); a timeout names `what` and what the dialog says. */
async function until(locator, what, state = "visible") {
  try {
    await locator.waitFor({ state });
  } catch (error) {
    const said = await page.locator("#op-error:visible").textContent({ timeout: 500 }).catch(() => null);
    throw new Error(`${what}: not within 15 s` + (said ? ` (the dialog says: ${said})` : ""));
  }
}

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
async function step(name) {
  process.stdout.write(`STEP ${name}\n`);
  const next = await lines.next();
  check(!next.done && next.value.trim() === "continue", `the shell did not say continue after ${name}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // Nothing but the node under test: no background calls to the outside.
  args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"],
});

try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);

  // What the page does that it must not: errors (a CSP violation is one),
  // requests to another origin, the token in a URL.
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // A 404 of /api/v1/stats (not built yet) or the 403 of the wrong-token
    // check below are expected network answers, which Chromium logs.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  const requests = [];
  page.on("request", (request) => {
    requests.push(request.url());
    const url = new URL(request.url());
    if (url.origin !== base.origin) problems.push(`a request to another origin: ${request.url()}`);
    if (request.url().includes(token)) problems.push("the token in a request URL");
  });

  log(`opening ${base.href}`);
  const response = await page.goto(base.href);
  check(response.ok(), `GET / answered ${response.status()}`);
  check((response.headers()["content-security-policy"] || "").startsWith("default-src 'self'"), "no CSP on the page");

  // The demo sites and endpoints, all usable, and the map with its dots.
  for (const site of sites) await until(page.locator(`#sites tr[data-site="${site}"]`), `site ${site} in the table`);
  for (const address of endpoints) {
    await until(page.locator(`tr[data-endpoint="${address}"][data-usable="true"]`), `endpoint ${address}, usable`);
  }
  check(await page.locator("#map g.site").count() === sites.length, "the map shows every site");
  await until(page.locator("#members tr[data-member]").nth(sites.length - 1), "every cluster member");
  if (process.env.MERIDIAN_STORE === "etcd") {
    // The store's panel names etcd, its revision, and whether each etcd member is reached.
    check(/^etcd store · leader etcd-\d · term \d+ · revision \d+/.test(await page.locator("#cluster-summary").textContent()),
      "the cluster panel shows the etcd store");
    check(await page.locator('#members tr[data-member^="etcd-"]').count() === 3, "every etcd member in the panel");
    check(await page.locator("#members").getByText("reached", { exact: true }).count() === 3, "each etcd member reached");
  }
  await until(page.locator("#matrix td.cell").first(), "the health matrix");
  await until(page.locator("#events li[data-id]").first(), "an event");
  check(/live/.test(await page.locator("#live").textContent()), "the page says it is live");
  check(!(await page.locator("#unlock").isVisible()), "no token asked where reads are open");
  const columns = await page.locator("main > .column").evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().x));
  check(columns.length === 2 && columns[1] > columns[0] + 300, `two columns on a laptop (${columns})`);
  await page.waitForTimeout(500);  // let the map and the chart settle
  await shot("1-laptop");
  await shot("1-laptop-full", page, { fullPage: true });

  // Drain the first site's endpoint with the token.
  const row = page.locator(`tr[data-endpoint="${target}"]`);
  await row.getByRole("button", { name: "Drain" }).click();
  const dialog = page.locator("#op-dialog");
  await dialog.waitFor({ state: "visible" });
  check(await page.locator("#op-token").inputValue() === "", "the token field starts empty");
  await page.locator("#op-token").fill(token);
  await page.locator("#op-author").fill("dashboard-test");
  await page.locator("#op-reason").fill("browser test");
  await shot("2-drain-dialog");
  await page.locator("#op-confirm").click();
  await until(dialog, "the dialog closes after Drain", "hidden");
  await until(page.locator(`tr[data-endpoint="${target}"][data-usable="false"]`), `endpoint ${target}, not usable`);
  const drained = await row.textContent();
  check(/not usable/.test(drained) && /drain/.test(drained) && /dashboard-test/.test(drained),
        `the row shows the drain: ${drained}`);
  await row.getByRole("button", { name: "Restore" }).waitFor();
  await until(page.locator("#events li", { hasText: "browser test" }).first(), "the drain in the event log");
  check(!(await page.content()).includes(token), "the token is not in the page");
  await shot("3-drained");
  log(`${target} shows drained`);
  await step("drained");

  // Restore: the token is remembered for this tab, so the operator only confirms.
  await row.getByRole("button", { name: "Restore" }).click();
  await dialog.waitFor({ state: "visible" });
  check(await page.locator("#op-token").inputValue() === token, "the token is remembered in memory");
  await page.locator("#op-confirm").click();
  await until(dialog, "the dialog closes after Restore", "hidden");
  await until(page.locator(`tr[data-endpoint="${target}"][data-usable="true"]`), `endpoint ${target}, usable again`);
  await row.getByRole("button", { name: "Drain" }).waitFor();
  await shot("4-restored");
  log(`${target} shows usable again`);
  await step("restored");

  // A wrong token: the API's error is shown, and nothing changes.
  await page.locator(`#sites tr[data-site="${sites[2]}"]`).getByRole("button", { name: "Drain" }).click();
  await dialog.waitFor({ state: "visible" });
  await page.locator("#op-forget").click();
  await page.locator("#op-token").fill("not-the-token");
  await page.locator("#op-confirm").click();
  await until(page.locator("#op-error").filter({ hasText: "403" }), "the 403 of a wrong token in the dialog");
  await shot("5-wrong-token");
  await page.locator("#op-cancel").click();
  await dialog.waitFor({ state: "hidden" });

  // The explain box.
  await page.locator("#explain-name").fill(args.service);
  await page.locator("#explain-client").fill(args.client);
  await page.getByRole("button", { name: "Explain" }).click();
  await until(page.locator("#explain-out").filter({ hasText: "service: " + args.service }), "the explain trace");
  await page.locator("#explain-out").scrollIntoViewIfNeeded();
  await shot("6-explain");

  if (args["guarded-url"]) {
    // A node whose reads need the token: the page loads, says so, and asks.
    const guarded = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const locked = await guarded.newPage();
    locked.setDefaultTimeout(15000);
    locked.on("pageerror", (error) => problems.push(`page error (guarded node): ${error.message}`));
    locked.on("request", (request) => {
      if (request.url().includes(token)) problems.push("the token in a request URL (guarded node)");
    });
    const opened = await locked.goto(args["guarded-url"]);
    check(opened.ok(), `GET / of the guarded node answered ${opened.status()}`);
    await locked.locator("#unlock").waitFor();
    check(/needs the admin token/.test(await locked.locator("#live").textContent()), "the page says why it is empty");
    check(await locked.locator("tr[data-endpoint]").count() === 0, "no endpoint shown without the token");
    await shot("8-token-asked", locked);
    const submit = locked.locator("#unlock button[type=submit]");
    await locked.locator("#unlock-token").fill("not-the-token");
    await submit.click();
    await locked.locator("#unlock-error").filter({ hasText: "refused" }).waitFor();
    check(await locked.locator("#unlock-token").inputValue() === "", "the field is emptied after a try");
    check(await locked.locator("tr[data-endpoint]").count() === 0, "still nothing shown after a wrong token");
    await locked.locator("#unlock-token").fill(token);
    await submit.click();
    await locked.locator("#unlock").waitFor({ state: "hidden" });
    for (const address of endpoints) {
      await locked.locator(`tr[data-endpoint="${address}"][data-usable="true"]`).waitFor();
    }
    await locked.locator("#events li[data-id]").first().waitFor();
    check(/live/.test(await locked.locator("#live").textContent()), "the guarded page is live with the token");
    check(await locked.locator("#unlock-token").inputValue() === "", "the token left the field");
    check(!(await locked.content()).includes(token), "the token is not in the guarded page");
    await shot("9-token-accepted", locked);
    await guarded.close();
    log("the guarded node's page asked for the token and showed the node with it");
  }

  check(problems.length === 0, "the page misbehaved:\n  " + problems.join("\n  "));
  check(requests.some((url) => url.endsWith("/api/v1/overrides")), "the page posted the overrides");

  // A phone: one column, nothing wider than the screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  await small.goto(base.href);
  for (const address of endpoints) await small.locator(`tr[data-endpoint="${address}"]`).waitFor();
  const stacked = await small.locator("main > .column").evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().x));
  check(stacked.length === 2 && Math.abs(stacked[0] - stacked[1]) < 2, `one column on a phone (${stacked})`);
  const width = await small.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the phone page is ${width} px wide`);
  await small.waitForTimeout(500);
  await shot("7-phone", small);
  await shot("7-phone-full", small, { fullPage: true });
  await phone.close();
  process.stdout.write("DONE\n");
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error.message}`);
  if (page) await shot("failure").catch(() => {});
} finally {
  for (const path of shots) console.error(`artifact: ${path}`);
  await browser.close();
  stdin.close();
}
process.exit(failed ? 1 : 0);
