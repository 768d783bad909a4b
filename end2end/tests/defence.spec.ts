import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

test("the security team approves a proposed block, sees it in force, and lifts it", async ({ page }) => {
  await signIn(page, "e2e-security");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "MailFlow", exact: true }).click();
  await expect(page).toHaveURL(/\/mailflow$/);
  await hydrated(page);

  // The import proposed the dictionary attacker, with its evidence.
  const proposal = page.locator("table.proposals tbody tr[data-target='203.0.113.66']");
  await expect(proposal).toContainText("dictionary-attack");
  await expect(proposal).toContainText("unknown_user");
  await proposal.getByRole("button", { name: "Show log lines" }).click();
  await expect(page.locator("pre.samples")).toContainText("User unknown in virtual mailbox table");

  // Approve it with a reason; the bulk button needs a selection first.
  const approve = page.getByRole("button", { name: "Approve selected" });
  await expect(approve).toBeDisabled();
  await proposal.getByRole("checkbox").check();
  const form = page.locator("form.bulk-form").first();
  await form.getByPlaceholder("Reason (audit log)").fill("dictionary attack on our domains");
  await approve.click();
  await expect(page.getByRole("status")).toHaveText("Approved 1.");
  await expect(page.locator("table.proposals tbody tr[data-target='203.0.113.66']")).toHaveCount(0);

  // It is in force: who approved it, why, until when; then lift it.
  const block = page.locator("table.blocks tbody tr[data-target='203.0.113.66']");
  await expect(block).toContainText("e2e-security");
  await expect(block).toContainText("dictionary attack on our domains");
  await expect(block).toContainText("left)");
  await block.getByPlaceholder("Why lift it").fill("false positive after all");
  await block.getByRole("button", { name: "Lift" }).click();
  await expect(block).toContainText("lifted");
  await expect(block.getByRole("button", { name: "Lift" })).toHaveCount(0);
});

test("the security team tunes a policy and allowlists a partner", async ({ page }) => {
  await signIn(page, "e2e-security");
  await page.goto("/mailflow");
  await hydrated(page);
  await page.getByRole("link", { name: /Detection policies and allowlist/ }).click();
  await expect(page).toHaveURL(/\/mailflow\/detection$/);
  await hydrated(page);

  const relay = page.locator("table.policies tbody tr[data-policy='relay-probing']");
  await relay.locator("input[name=threshold]").fill("25");
  await relay.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved relay-probing.");
  await expect(relay.locator("input[name=threshold]")).toHaveValue("25");

  // Auto-approval is an admin's decision.
  await relay.getByRole("checkbox", { name: "Auto-approve" }).check();
  await relay.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("permission");

  await page.getByPlaceholder("192.0.2.0/24 or ana@example.com.br").fill("198.51.100.25");
  await page.getByPlaceholder("Why (e.g. partner MX)").fill("partner MX");
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page.locator("table.allow tbody tr[data-target='198.51.100.25']")).toContainText("partner MX");
});
