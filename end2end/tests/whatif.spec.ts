import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

// Issue 17 item 11: before saving a policy, an analyst replays the last days'
// counters with the edited numbers. .ci/e2e.sh imports yesterday's generated
// mail, whose clients each have a few unknown-user rejects: far under the
// dictionary-attack policy's 30, over a threshold of 1.
test("an analyst lowers a threshold and sees who would now be proposed, nothing saved", async ({ page }) => {
  await signIn(page, "e2e-security");
  await page.goto("/mailflow/detection");
  await hydrated(page);

  const row = page.locator("table.policies tbody tr[data-policy='dictionary-attack']");
  const threshold = row.locator("input[name=threshold]");
  const saved = await threshold.inputValue();
  await threshold.fill("1");
  await row.getByText("Test this change").click();
  await expect(row.getByLabel("Days to replay")).toHaveValue("7");
  await row.getByRole("button", { name: "Run" }).click();

  await expect(row.locator(".whatif-summary")).toContainText("would now be proposed");
  const newly = row.locator("table.whatif-list").first().locator("tbody tr");
  await expect(newly.first()).toBeVisible();
  // Each listed subject is a client address with its peak count.
  await expect(newly.first().locator("td").first()).toHaveText(/^[0-9a-f.:]+$/);
  await expect(newly.first().locator("td.num")).toHaveText(/^[1-9][0-9]*$/);

  // Out-of-range numbers are refused with a message, not replayed.
  await row.getByLabel("Days to replay").fill("31");
  await row.getByRole("button", { name: "Run" }).click();
  await expect(row.getByRole("alert")).toContainText("1 to 30");

  // Nothing was saved.
  await page.reload();
  await hydrated(page);
  await expect(row.locator("input[name=threshold]")).toHaveValue(saved);
});
