import { test, expect } from "@playwright/test";
import { appendFileSync, readFileSync } from "node:fs";
import { hydrated, signIn } from "./fixtures/session";

test("an admin watches the live log source catch up without reloading", async ({ page }) => {
  await signIn(page, "e2e-admin");
  await page.goto("/admin");
  await page.getByRole("link", { name: /MailFlow ingest/ }).click();
  await expect(page).toHaveURL(/\/admin\/ingest$/);
  await hydrated(page);

  const source = page.locator("table.ingest tbody tr", { hasText: "mx-e2e" });
  await expect(source.locator(".badge")).toHaveText("following", { timeout: 20_000 });
  const lines = source.locator("td.num").first();
  const before = await lines.innerText();

  // The imported archive is listed with where it was read from.
  await expect(page.getByRole("cell", { name: /archive\.log$/ })).toBeVisible();

  // New lines arrive in the live file: the page shows them on its own.
  appendFileSync(process.env.E2E_LIVE_LOG!, readFileSync(process.env.E2E_MORE_LOG!));
  await expect(lines).not.toHaveText(before, { timeout: 20_000 });
  await expect(source.locator(".badge")).toHaveText("following");
});
