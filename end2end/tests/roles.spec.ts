import { expect, test } from "@playwright/test";
import { hydrated, roles, signIn, type Role } from "./fixtures/session";

const sections: Record<string, Role[]> = {
  Mailboxes: ["support", "admin"],
  MailFlow: ["security", "admin"],
  Charts: ["manager", "security", "admin"],
  Admin: ["admin"],
};

for (const role of roles) {
  test(`${role} sees exactly the sections of the role, and signs out`, async ({ page }) => {
    await signIn(page, `e2e-${role}`);

    const nav = page.getByRole("navigation", { name: "Sections" });
    for (const [label, allowed] of Object.entries(sections)) {
      const link = nav.getByRole("link", { name: label, exact: true });
      if (allowed.includes(role)) {
        await expect(link).toBeVisible();
      } else {
        await expect(link).toHaveCount(0);
      }
    }
    await expect(page.getByRole("heading", { name: /Hello/ })).toBeVisible();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login\?next=/);
  });
}

test("a support agent is refused the admin pages", async ({ page }) => {
  await signIn(page, "e2e-support");
  const res = await page.goto("/admin/staff");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Not permitted" })).toBeVisible();
});

test("a manager is refused MailFlow, also when navigating inside the app", async ({ page }) => {
  await signIn(page, "e2e-manager");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Charts" }).click();
  await expect(page.getByRole("heading", { name: "Charts" })).toBeVisible();
  const res = await page.goto("/mailflow");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Not permitted" })).toBeVisible();
});

test("a wrong password shows a clear error and no session", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username").fill("e2e-support");
  await page.getByLabel("Password").fill("certainly-not-it");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong username or password.");
  await expect(page).toHaveURL(/\/login/);
});
