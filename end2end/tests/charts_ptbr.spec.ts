import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

test.use({ locale: "pt-BR" });

/** Signs in through the login page as a pt-BR browser sees it. */
test("o gerente amplia um gráfico, compara com a semana passada e compartilha o endereço", async ({ page, context }) => {
  await signInPtBr(page, "e2e-manager");
  await page.getByRole("navigation", { name: "Seções" }).getByRole("link", { name: "Gráficos" }).click();
  await expect(page).toHaveURL(/\/charts$/);
  await hydrated(page);
  const range = page.getByTestId("range");
  await expect(range).toContainText("por 5 minutos");
  await expect(page.getByTestId("data-until")).toContainText("dados até");
  // Under the mail flow, what the blocks refused (drawn once the page works).
  await expect(page.getByTestId("refused-chart")).toContainText("Recusadas por bloqueios");

  // The date fields follow the presets (they used to keep stale dates).
  const first = page.getByLabel("De", { exact: true });
  const before = await first.inputValue();
  await page.getByRole("button", { name: "Mês", exact: true }).click();
  await expect(page).toHaveURL(/range=month/);
  await expect(first).not.toHaveValue(before);
  const month = await first.inputValue();
  await page.getByRole("button", { name: "Semana", exact: true }).click();
  await expect(page).toHaveURL(/range=week/);
  await expect(range).toContainText("por hora");
  await expect(first).not.toHaveValue(month);

  // Drag across the last hours of the mail flow: the range becomes that span.
  const flow = page.getByRole("figure", { name: "Fluxo de e-mail" });
  const svg = flow.locator("svg");
  await svg.scrollIntoViewIfNeeded();
  const box = (await svg.boundingBox())!;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.88, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.92, y, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.97, y, { steps: 5 });
  await page.mouse.up();
  await expect(page).toHaveURL(/range=\d+-\d+/);
  await expect(page).toHaveURL(/unzoom=week/);
  await expect(range).not.toContainText("por hora");
  await expect(page.getByRole("button", { name: "Voltar ao período" })).toBeVisible();

  // Compare with the same time last week: dashed lines over the chart.
  await page.getByRole("button", { name: "Semana passada" }).click();
  await expect(page).toHaveURL(/compare=week/);
  await expect(flow.locator('path[data-compared="true"][data-series="received"]')).toHaveCount(1);
  await expect(page.getByTestId("data-until")).toContainText("tracejado");

  // Export: the chart's data as CSV, the drawing as SVG.
  const csvDownload = page.waitForEvent("download");
  await flow.getByRole("button", { name: "CSV" }).click();
  const csvFile = await csvDownload;
  expect(csvFile.suggestedFilename()).toMatch(/^carteiro-flow-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await csvFile.path())!, "utf8").trim().split("\n");
  expect(csv[0]).toMatch(/^horário,received,/);
  expect(csv[0]).toContain("received (comparado)");
  expect(csv[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2},[\d,]*$/);
  const svgDownload = page.waitForEvent("download");
  await flow.getByRole("button", { name: "SVG" }).click();
  const svgFile = await svgDownload;
  expect(svgFile.suggestedFilename()).toMatch(/\.svg$/);
  expect(readFileSync((await svgFile.path())!, "utf8")).toContain("<svg");
  const pngDownload = page.waitForEvent("download");
  await flow.getByRole("button", { name: "PNG" }).click();
  expect((await pngDownload).suggestedFilename()).toMatch(/\.png$/);

  // The address holds the whole view: another page opening it gets the same.
  const shared = page.url();
  const shown = (await range.innerText()).split(" · atualizado")[0];
  const other = await context.newPage();
  await other.goto(shared);
  await hydrated(other);
  await expect(other.getByTestId("range")).toContainText(shown);
  await expect(other.getByRole("button", { name: "Semana passada" })).toHaveAttribute("aria-pressed", "true");
  const otherFlow = other.getByRole("figure", { name: "Fluxo de e-mail" });
  await expect(otherFlow.locator('path[data-compared="true"][data-series="received"]')).toHaveCount(1);
  await expect(other.getByRole("button", { name: "Voltar ao período" })).toBeVisible();
  await other.close();

  // Back: the view before the comparison; "Voltar ao período" undoes the zoom.
  await page.goBack();
  await expect(page).not.toHaveURL(/compare=/);
  await expect(page.getByRole("button", { name: "Nada" })).toHaveAttribute("aria-pressed", "true");
  await page.getByRole("button", { name: "Voltar ao período" }).click();
  await expect(page).toHaveURL(/range=week/);
  await expect(page).not.toHaveURL(/unzoom/);
  await expect(range).toContainText("por hora");

  // A domain's charts say that spam and virus are per host only.
  await page.locator("label", { hasText: "Domínio" }).locator("select").selectOption({ index: 1 });
  await expect(page).toHaveURL(/domain=/);
  await expect(page.getByText("Spam e vírus são contados só por servidor")).toBeVisible();
});
