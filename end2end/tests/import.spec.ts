import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./fixtures/session";

// The CSV import page uploads the file as multipart and shows the job's
// result; Import is enabled only after a clean preview of the chosen file;
// a file over 20 MB gets a clear message above the form.
test("support previews a CSV file and is told when a file is too large", async ({ page }) => {
  await signIn(page, "e2e-support");
  await page.goto("/mailboxes/import");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("CSV import");

  await page.getByLabel("CSV file").setInputFiles({
    name: "mailboxes.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("kind,address,name\nmailbox,e2e-import@cliente.com.br,E2E Import\n"),
  });
  await page.getByRole("button", { name: "Preview (writes nothing)" }).click();
  await expect(page.getByText("Preview: all 1 rows can be imported. Nothing was written yet.")).toBeVisible();
  await expect(page.getByRole("cell", { name: "e2e-import@cliente.com.br", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Import", exact: true })).toBeEnabled();

  await page.getByLabel("CSV file").setInputFiles({
    name: "huge.csv",
    mimeType: "text/csv",
    buffer: Buffer.alloc(21 * 1024 * 1024, "a"),
  });
  await expect(page.getByRole("alert")).toContainText("one import takes at most 20 MB");
  // Another file: Import waits for its preview.
  await expect(page.getByRole("button", { name: "Import", exact: true })).toBeDisabled();
  await page.getByRole("button", { name: "Preview (writes nothing)" }).click();
  await expect(page.getByRole("alert")).toContainText("Split it into smaller files");
});
