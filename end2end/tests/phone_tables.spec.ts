import { expect, test } from "@playwright/test";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

test.use({ locale: "pt-BR" });

// On a phone a wide table scrolls in its own box: its cells keep whole words.
// (`.page`'s overflow-wrap: anywhere once let the mailbox list squeeze its
// columns to one letter each, an address written down the cell.)
test("on a phone the mailbox list scrolls in its box, its addresses on one line", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signInPtBr(page, "e2e-support");
  await page.goto("/mailboxes");
  await hydrated(page);
  const address = page.getByRole("link", { name: "ana17@cliente.com.br", exact: true });
  const box = (await address.boundingBox())!;
  const line = await address.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 24);
  expect(box.height, "the address wraps").toBeLessThan(line * 1.5);
  const table = page.locator("table.data").first();
  const scrolls = await table.evaluate((el) => el.scrollWidth > el.clientWidth);
  expect(scrolls, "the table scrolls in its box").toBe(true);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, "the page is wider than the screen").toBe(0);
});
