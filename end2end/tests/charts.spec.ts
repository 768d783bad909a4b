import { test, expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { hydrated, signIn } from "./fixtures/session";

/** The number in a total's card (e.g. RECEIVED). */
async function total(page: Page, label: string): Promise<number> {
  const card = page.locator(".totals div", { has: page.locator("dt", { hasText: new RegExp(`^${label}$`, "i") }) });
  return Number(await card.locator("dd").innerText());
}

test("a manager reads the charts across presets and downloads a report table", async ({ page }) => {
  await signIn(page, "e2e-manager");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Charts" }).click();
  await expect(page).toHaveURL(/\/charts$/);
  await hydrated(page);

  // The last day: the message imported an hour ago is there, by 5 minutes.
  const range = page.getByTestId("range");
  await expect(range).toContainText("per 5 minutes");
  expect(await total(page, "received")).toBeGreaterThan(0);
  const day = await total(page, "received");

  // The week also holds yesterday's imported log, hour by hour.
  await page.getByRole("button", { name: "Week", exact: true }).click();
  await expect(range).toContainText("per hour");
  await expect.poll(() => total(page, "received")).toBeGreaterThan(day);
  const flow = page.getByRole("figure", { name: "Mail flow" });
  await expect(flow.locator('path[data-series="received"]')).toHaveCount(1);
  await expect(flow.locator('path[data-series="rejected"]')).toHaveCount(1);

  // Hovering shows the exact values of the bucket under the pointer.
  const svg = flow.locator("svg");
  const box = (await svg.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
  await expect(flow.getByRole("status")).toContainText("Received");

  // A legend entry hides its series, and shows it again.
  const received = flow.getByRole("button", { name: /^Received/ });
  await received.click();
  await expect(received).toHaveAttribute("aria-pressed", "false");
  await expect(flow.locator('path[data-series="received"]')).toHaveCount(0);
  await received.click();
  await expect(flow.locator('path[data-series="received"]')).toHaveCount(1);

  await page.getByRole("button", { name: "Month", exact: true }).click();
  await expect(range).toContainText("per 2 hours");
  await page.getByRole("button", { name: "Year", exact: true }).click();
  await expect(range).toContainText("per day");
  expect(await total(page, "received")).toBeGreaterThan(day);

  // Lines and rates redraw the same data.
  await page.getByRole("button", { name: "Lines" }).click();
  await page.getByRole("button", { name: "Per minute" }).click();
  await expect(flow.locator('path[data-series="received"]')).toHaveAttribute("fill", "none");

  // The report of the last seven days, and one table as CSV.
  await page.getByRole("navigation", { name: "Charts section" }).getByRole("link", { name: "Report" }).click();
  await expect(page).toHaveURL(/\/charts\/report$/);
  await hydrated(page);
  // The report of today is shown first; the tables of the week replace it
  // once they are built (until then the old ones stay on screen).
  const period = page.getByTestId("period");
  const today = await period.innerText();
  const from = page.getByLabel("From", { exact: true });
  const to = page.getByLabel("To", { exact: true });
  const todayDate = await to.inputValue();
  await expect(from).toHaveValue(todayDate);
  await page.getByRole("button", { name: "Last 7 days" }).click();
  await expect(period).not.toHaveText(today);
  // The date fields follow the preset: seven local days up to today.
  await expect(to).toHaveValue(todayDate);
  const sixDaysBefore = new Date(Date.parse(`${todayDate}T12:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
  await expect(from).toHaveValue(sixDaysBefore);
  await page.getByRole("button", { name: "Yesterday" }).click();
  await expect(to).toHaveValue(new Date(Date.parse(`${todayDate}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10));
  await page.getByRole("button", { name: "Last 7 days" }).click();
  const senders = page.getByRole("region", { name: "Senders by count" });
  await expect(senders.locator("tbody tr").first()).toBeVisible();
  const download = page.waitForEvent("download");
  await senders.getByRole("link", { name: "CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^carteiro-senders_by_count-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await file.path())!, "utf8");
  const lines = csv.trim().split("\n");
  expect(lines[0]).toBe("sender,messages,bytes");
  expect(lines.length).toBeGreaterThan(2);
  expect(lines[1]).toMatch(/^[^,]+@[^,]+,\d+,\d+$/);
});
