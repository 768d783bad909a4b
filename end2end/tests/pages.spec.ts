import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

// Every page opened by its URL, as an admin: the server renders it with its
// data, the WASM hydrates it; the browser must log no error or warning (a
// hydration mismatch logs one), and the app must stay usable afterwards.
const pages: [string, RegExp][] = [
  ["/", /Hello/],
  ["/account", /Your account/],
  ["/mailboxes", /Mailboxes/],
  ["/mailboxes/aliases", /Aliases/],
  ["/mailboxes/domains", /Domains/],
  ["/mailboxes/import", /CSV import/],
  ["/mailboxes/trace", /Message trace/],
  ["/mailboxes/carla7@cliente.com.br", /carla7@cliente\.com\.br/],
  ["/mailflow", /MailFlow defence/],
  ["/mailflow/detection", /Detection policies/],
  ["/charts", /Charts/],
  ["/charts/report", /Mail report/],
  ["/admin", /Admin/],
  ["/admin/staff", /Staff/],
  ["/admin/audit", /Audit log/],
  ["/admin/tokens", /API tokens/],
  ["/admin/ingest", /MailFlow ingest/],
];

/** Collects the page's uncaught errors and console errors and warnings. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  return errors;
}

test("every page opened by its URL hydrates cleanly", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, "e2e-admin");
  const errors = watchErrors(page);
  for (const [path, heading] of pages) {
    // Twice: a mismatch that depends on timing gets a second chance to show.
    for (let visit = 1; visit <= 2; visit++) {
      const res = await page.goto(path);
      expect(res?.status(), `${path} status`).toBe(200);
      await hydrated(page);
      await expect(page.getByRole("heading", { level: 1, name: heading }), path).toBeVisible();
      expect(errors, `${path}, visit ${visit}`).toEqual([]);
    }
  }
  // Hydrated means working: the section links navigate inside the app.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Charts" }).click();
  await expect(page).toHaveURL(/\/charts$/);
  await expect(page.getByRole("heading", { level: 1, name: "Charts" })).toBeVisible();
  expect(errors).toEqual([]);
});
