import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

test("an analyst makes a rule from an unclassified reject, previews it and saves it", async ({ page }) => {
  await signIn(page, "e2e-security");
  await page.goto("/mailflow");
  await hydrated(page);
  await page.getByRole("link", { name: "Unclassified rejects →" }).click();
  await expect(page).toHaveURL(/\/mailflow\/unclassified$/);
  await hydrated(page);

  // The three rejects .ci/e2e.sh imported are one text, numbers and addresses replaced.
  const text = "550 5.7.1 <addr>: Recipient address rejected: Mailbox frozen by policy for <n> days";
  const row = page.locator(`table.unclassified tbody tr[data-text="${text}"]`);
  await expect(row.locator("td.num")).toHaveText("3");
  await row.getByText("Sample lines").click();
  await expect(row.locator("ul.samples li")).toHaveCount(3);

  // Make a rule from it: class and pattern filled in, then edited.
  await row.getByRole("button", { name: "Make a rule from this" }).click();
  const className = page.getByLabel("Class name");
  await expect(className).toHaveValue("mailbox_frozen_by_policy_for");
  await expect(page.getByLabel("Pattern (regular expression)")).toHaveValue(/Mailbox frozen by policy for/);
  await className.fill("mailbox_frozen");

  // Preview: how many past rejects it matches.
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview")).toContainText("Would have matched 3 rejects of 1 stored text.");

  // Save: the text leaves the list.
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved rule mailbox_frozen" })).toContainText(
    "3 stored rejects now classified",
  );
  await expect(row).toHaveCount(0);
});
