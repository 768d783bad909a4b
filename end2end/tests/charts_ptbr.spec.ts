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
  // There, the comparison as the difference: current − compared around a
  // zero line, kept in the address; the read-out gives both values.
  await other.getByRole("button", { name: "Diferença" }).click();
  await expect(other).toHaveURL(/compared=delta/);
  await expect(otherFlow.locator('path[data-delta="true"][data-series="received"]')).toHaveCount(1);
  await expect(otherFlow.locator('path[data-compared="true"]')).toHaveCount(0);
  await expect(otherFlow.locator("line.zero")).toHaveCount(1);
  await expect(otherFlow.locator("svg")).toContainText("atual − comparado");
  await expect(other.getByTestId("data-until")).toContainText("diferença em relação a");
  await otherFlow.locator("svg").scrollIntoViewIfNeeded();
  const otherBox = (await otherFlow.locator("svg").boundingBox())!;
  await other.mouse.move(otherBox.x + otherBox.width * 0.5, otherBox.y + otherBox.height / 2);
  await expect(otherFlow.getByRole("status")).toContainText(/agora [\d.]+, comparado [\d.]+|sem dados/);
  await other.getByRole("button", { name: "Sobreposição" }).click();
  await expect(other).not.toHaveURL(/compared=/);
  await expect(otherFlow.locator('path[data-compared="true"][data-series="received"]')).toHaveCount(1);
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

test("o gerente clica no marcador de um bloqueio manual e vê os detalhes ao lado dele", async ({ page, context }) => {
  // The security team blocks an address by hand.
  const ip = "198.51.100.77";
  await signInPtBr(page, "e2e-security");
  await page.goto("/mailflow");
  await hydrated(page);
  const byHand = page.locator("section.panel", { has: page.getByRole("heading", { name: "Bloqueio manual" }) });
  await byHand.getByLabel("Endereço, rede ou conta").fill(ip);
  await byHand.getByLabel("Motivo").fill("varredura de portas vista no firewall");
  await byHand.getByRole("button", { name: "Bloquear" }).click();
  const done = page.getByText(new RegExp(`${ip.replace(/\./g, "\\.")} bloqueado até .* \\(bloqueio nº (\\d+)\\)`));
  await expect(done).toBeVisible();
  const id = (await done.innerText()).match(/bloqueio nº (\d+)/)![1];

  // The manager opens the charts over the hours around it (a range in the
  // address, as a shared link would give it).
  await context.clearCookies();
  await signInPtBr(page, "e2e-manager");
  const now = Math.floor(Date.now() / 1000);
  await page.goto(`/charts?range=${now - 3 * 3600}-${now + 3600}`);
  await hydrated(page);
  const flow = page.getByRole("figure", { name: "Fluxo de e-mail" });
  const marker = flow.getByRole("button", { name: `Bloqueio nº ${id} de ${ip} aprovado por e2e-security` });
  await expect(marker).toHaveCount(1);

  // A click on its triangle opens the block's details beside it.
  await marker.locator("path").click();
  const popover = flow.locator(".block-popover");
  await expect(popover).toBeVisible();
  await expect(popover.getByRole("heading")).toHaveText(`Bloqueio nº ${id}: ${ip}`);
  await expect(popover).toContainText("aprovado por e2e-security");
  await expect(popover).toContainText("varredura de portas vista no firewall");
  await expect(popover).toContainText(/Recusou \d+ pedido\(s\)/);

  // Next to the marker: one of its sides at the marker's line, its top
  // within the chart, and all of it inside the window.
  const m = (await marker.locator("line").boundingBox())!;
  const p = (await popover.boundingBox())!;
  const svg = (await flow.locator("svg").boundingBox())!;
  const markerX = m.x + m.width / 2;
  expect(Math.min(Math.abs(p.x - markerX), Math.abs(p.x + p.width - markerX))).toBeLessThan(12);
  expect(p.y).toBeGreaterThan(svg.y);
  expect(p.y).toBeLessThan(svg.y + svg.height);
  const window = page.viewportSize()!;
  expect(p.x).toBeGreaterThanOrEqual(0);
  expect(p.x + p.width).toBeLessThanOrEqual(window.width);
  expect(p.y).toBeGreaterThanOrEqual(0);
  expect(p.y + p.height).toBeLessThanOrEqual(window.height);

  // Closing it hides it again.
  await popover.getByRole("button", { name: "Fechar" }).click();
  await expect(popover).toHaveCount(0);
});
