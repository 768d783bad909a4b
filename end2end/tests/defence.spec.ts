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
  await expect(proposal).toContainText("rejected for unknown recipients");
  await proposal.getByRole("button", { name: "Show evidence" }).click();
  await expect(page.locator("pre.samples")).toContainText("User unknown in virtual mailbox table");

  // Approve it with a reason; the bulk button needs a selection first.
  const approve = page.getByRole("button", { name: "Approve selected" });
  await expect(approve).toBeDisabled();
  await proposal.getByRole("checkbox").check();
  const form = page.locator("form.bulk-form").first();
  await form.getByLabel("Reason to approve").fill("dictionary attack on our domains");
  await approve.click();
  await expect(page.getByRole("status")).toHaveText("Approved 1.");
  await expect(page.locator("table.proposals tbody tr[data-target='203.0.113.66']")).toHaveCount(0);
  // The reason field is cleared for the next decision.
  await expect(form.getByLabel("Reason to approve")).toHaveValue("");

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

test("an analyst reads an account's evidence and approves it; support sees the block on the mailbox", async ({ browser }) => {
  const analyst = await browser.newPage();
  await signIn(analyst, "e2e-security");
  await analyst.goto("/mailflow");
  await hydrated(analyst);

  // When it started (the first login), not only when the threshold was crossed.
  const proposal = analyst.locator("table.proposals tbody tr[data-target='ana17@cliente.com.br']");
  await expect(proposal).toContainText("distinct client IPs");
  // Times are local (America/Sao_Paulo, UTC-3), in UTC on hover.
  await expect(proposal).toContainText("Started 2026-11-29 07:10");
  await expect(proposal).toContainText("Threshold 2026-11-29 07:17");
  await expect(proposal.locator("td.seen time").first()).toHaveAttribute("title", "2026-11-29 10:10:00 UTC");
  // The admin-only override is not offered to an analyst.
  await expect(analyst.getByRole("checkbox", { name: /Override guardrails/ })).toHaveCount(0);

  // All its client IPs (the first ones too), the history and the mailbox link.
  await proposal.getByRole("button", { name: "Show evidence" }).click();
  const evidence = analyst.locator("tr.evidence");
  const ips = evidence.locator(".detail-list", { hasText: "Client IPs" });
  await expect(ips).toContainText("Client IPs (12)");
  await expect(ips.locator("li")).toHaveCount(12);
  await expect(ips).toContainText("198.51.100.10");
  await expect(ips).toContainText("198.51.100.21");
  await expect(evidence).toContainText("History");
  await expect(evidence).toContainText("pending");
  await expect(evidence.getByRole("link", { name: /Open mailbox/ })).toHaveAttribute(
    "href",
    "/mailboxes/ana17@cliente.com.br",
  );

  await proposal.getByRole("checkbox").check();
  const form = analyst.locator("form.bulk-form").first();
  await form.getByLabel("Reason to approve").fill("compromised account: logins from 12 IPs");
  await analyst.getByRole("button", { name: "Approve selected" }).click();
  await expect(analyst.getByRole("status")).toHaveText("Approved 1.");

  // Support opens the mailbox and sees the block.
  const support = await browser.newPage();
  await signIn(support, "e2e-support");
  await support.goto("/mailboxes/ana17@cliente.com.br");
  await hydrated(support);
  const banner = support.getByText(/Sending blocked until/);
  await expect(banner).toContainText("compromised account: logins from 12 IPs");
  await expect(banner).toContainText("block #");
});
