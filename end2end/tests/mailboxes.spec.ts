import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

// The demo domain cliente.com.br (serve --demo) has bruno42@ among its mailboxes.
test("support finds a mailbox, suspends it, resets its password, creates an alias and sees the audit entries", async ({ page }) => {
  await signIn(page, "e2e-support");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Mailboxes", exact: true }).click();
  await expect(page).toHaveURL(/\/mailboxes$/);
  await hydrated(page);

  // Find it by its name ("Bruno Almeida"): a word is read as a name.
  await page.getByRole("searchbox", { name: "Find" }).fill("bruno");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/q=bruno/);
  await page.getByRole("link", { name: "bruno42@cliente.com.br" }).click();
  await expect(page).toHaveURL(/\/mailboxes\/bruno42@cliente\.com\.br$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("active");

  // Suspending needs a reason.
  await page.getByLabel("Reason").fill("unpaid invoice");
  await page.getByRole("button", { name: "Suspend" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Mailbox suspended.");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("suspended");
  await expect(page.getByRole("button", { name: "Reactivate" })).toBeVisible();

  // A new password, shown once.
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Reset password" }).click();
  const secret = page.getByTestId("one-time-password");
  await expect(secret).toBeVisible();
  expect((await secret.textContent())!.trim().length).toBeGreaterThanOrEqual(16);

  // Both changes are in the mailbox's history, with what changed.
  const history = page.locator("section.panel", { has: page.getByRole("heading", { name: "History" }) });
  await expect(history).toContainText("provision.mailbox_suspend");
  await expect(history).toContainText("provision.mailbox_reset_password");
  await expect(history).toContainText("status: active → suspended");
  await expect(history).toContainText("e2e-support");

  // An alias: a target that does not exist is refused beside its field.
  await page.getByRole("navigation", { name: "Mailboxes section" }).getByRole("link", { name: "Aliases" }).click();
  await expect(page).toHaveURL(/\/mailboxes\/aliases$/);
  await hydrated(page);
  await page.getByLabel("Address").fill("suporte@cliente.com.br");
  await page.getByLabel("Delivers to").fill("ninguem@cliente.com.br");
  await page.getByRole("button", { name: "Create alias" }).click();
  await expect(page.locator(".field-error[data-field=targets]")).toContainText("neither a mailbox nor an alias");
  await expect(page.locator("tr[data-alias='suporte@cliente.com.br']")).toHaveCount(0);

  await page.getByLabel("Delivers to").fill("bruno42@cliente.com.br, ana17@cliente.com.br");
  await page.getByRole("button", { name: "Create alias" }).click();
  await expect(page.getByRole("status").first()).toHaveText(
    "Create alias suporte@cliente.com.br → bruno42@cliente.com.br,ana17@cliente.com.br.",
  );
  await expect(page.locator("tr[data-alias='suporte@cliente.com.br']")).toBeVisible();
  await expect(page.locator(".field-error")).toHaveCount(0);
});

test("support traces a customer's mail by address, then by queue id", async ({ page }) => {
  await signIn(page, "e2e-support");
  await page.goto("/mailboxes/trace");
  await hydrated(page);
  // .ci/e2e.sh imported one message from ana17@cliente.com.br an hour ago.
  await page.getByLabel("Queue id, message-id or address").fill("ana17@cliente.com.br");
  await page.getByLabel("When").selectOption({ label: "last 6 hours" });
  await page.getByRole("button", { name: "Trace" }).click();
  const journey = page.locator("article.journey[data-queue-id='3E2E2E2E2E']");
  await expect(journey).toContainText("signed in as ana17@cliente.com.br");
  await expect(journey).toContainText("trace-e2e@cliente.com.br");
  const recipient = journey.locator("tbody tr", { hasText: "boss@gmail.com" });
  await expect(recipient).toContainText("sent");
  await expect(recipient).toContainText("250 2.0.0 OK 1700000000 e2e-trace");

  await journey.getByRole("link", { name: "3E2E2E2E2E" }).click();
  await expect(page).toHaveURL(/q=3E2E2E2E2E/);
  await expect(page.locator(".result-count")).toContainText("searched as queue id");
  await expect(page.locator("article.journey")).toHaveCount(1);
});
