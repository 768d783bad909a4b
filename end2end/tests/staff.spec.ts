import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

test("an admin creates a staff member who then signs in", async ({ page, browser }) => {
  await signIn(page, "e2e-admin");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Admin" }).click();
  await page.getByRole("link", { name: /Staff/ }).click();
  await expect(page.getByRole("heading", { name: "Staff", exact: true })).toBeVisible();
  await hydrated(page);

  const username = `newcomer${Date.now() % 100000}`;
  const form = page.locator("form.grid-form");
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Full name").fill("Nova Pessoa");
  await form.getByLabel("Support").check();
  await form.getByRole("button", { name: "Add staff member" }).click();

  const secret = page.getByTestId("one-time-password");
  await expect(secret).toBeVisible();
  const generated = (await secret.textContent())?.trim() ?? "";
  expect(generated).toMatch(/^[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}$/);
  await expect(page.locator(`tr[data-username="${username}"]`)).toContainText("Nova Pessoa");

  // The new person signs in in a separate browser context.
  const other = await browser.newContext();
  const theirs = await other.newPage();
  await signIn(theirs, username, generated);
  await expect(theirs.getByRole("heading", { name: "Hello, Nova Pessoa" })).toBeVisible();
  await expect(theirs.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Mailboxes" })).toBeVisible();
  await other.close();

  // The form is cleared for the next person.
  await expect(form.getByLabel("Username")).toHaveValue("");

  // Resetting a password asks first; dismissing changes nothing.
  const row = page.locator(`tr[data-username="${username}"]`);
  page.once("dialog", (d) => d.dismiss());
  await row.getByRole("button", { name: "Reset password" }).click();
  await expect(secret).toHaveText(generated);
  page.once("dialog", (d) => d.accept());
  await row.getByRole("button", { name: "Reset password" }).click();
  await expect(secret).not.toHaveText(generated);

  // The creation is in the audit log.
  await page.goto(`/admin/audit?action=staff.create&text=${username}`);
  await expect(page.locator("table.audit")).toContainText(username);
});
