#!/usr/bin/env bash
# Regenerate the README screenshots, headless:
#   docs/img/cash_flows_sheet.png  the `Cash flows` sheet of the tie-out deal's --formulas
#                                  workbook, as LibreOffice recalculates and prints it
#   docs/img/dscr_plot.png         the DSCR-by-scenario plot (`waterfall run ... --plot`)
# Needs: the package installed, LibreOffice (soffice), poppler-utils (pdftoppm), Pillow.
#   apt-get install -y libreoffice-calc-nogui poppler-utils
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/docs/img"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
cd "$ROOT"

for tool in soffice pdftoppm; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 1; }
done

# 1. the tie-out deal's --formulas workbook (base case), from the CLI
waterfall run deals/examples/tieout.toml --xlsx "$WORK/tieout.xlsx" --formulas >/dev/null

# 2. a copy that prints only `Cash flows` (the other sheets hidden), landscape, with the
#    period header and the line labels repeated; then LibreOffice recalculates the live
#    formulas (a fresh always-recalculate profile) and prints it to PDF
python - "$WORK" <<'PY'
import sys
from pathlib import Path

import openpyxl
from openpyxl.worksheet.properties import PageSetupProperties

from waterfall.output.formulas import CF_SHEET
from waterfall.output.recalc import recalculate

work = Path(sys.argv[1])
wb = openpyxl.load_workbook(work / "tieout.xlsx")
for ws in wb.worksheets:
    if ws.title != CF_SHEET:
        ws.sheet_state = "hidden"
ws = wb[CF_SHEET]
wb.active = wb.worksheets.index(ws)
# the first page: the line labels, the first periods, revenue down to the covenant tests
ws.print_area = "A1:L56"
ws.page_setup.orientation = "landscape"
ws.page_setup.paperSize = ws.PAPERSIZE_A3   # big enough to print near 100%: legible at 80 dpi
ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
ws.page_setup.fitToWidth = 1
ws.page_setup.fitToHeight = 1
ws.print_options.gridLines = False
ws.page_margins.left = ws.page_margins.right = 0.3
ws.page_margins.top = ws.page_margins.bottom = 0.3
ws.oddHeader.center.text = ""
ws.oddFooter.center.text = ""
wb.save(work / "cash_flows.xlsx")
recalculate(work / "cash_flows.xlsx", work, to="pdf")
PY

pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$WORK/cash_flows.pdf" "$WORK/cash_flows_page"

# 3. one plot: DSCR by scenario against the covenants
waterfall run deals/examples/tieout.toml --scenario tenant-half-pay --plot "$WORK/plots" >/dev/null

# 4. crop the page to its content (a small margin kept); shrink the plot for the README
python - "$WORK" "$OUT" <<'PY'
import sys
from pathlib import Path

from PIL import Image, ImageChops

work, out = Path(sys.argv[1]), Path(sys.argv[2])


def crop(img: Image.Image, margin: int = 8) -> Image.Image:
    img = img.convert("RGB")
    diff = ImageChops.difference(img, Image.new("RGB", img.size, (255, 255, 255)))
    box = diff.getbbox()
    if box is None:
        return img
    left, top, right, bottom = box
    return img.crop((max(0, left - margin), max(0, top - margin),
                     min(img.width, right + margin), min(img.height, bottom + margin)))


page = crop(Image.open(work / "cash_flows_page.png"))
# a sheet has few colours: a 64-colour palette keeps the text sharp and the file small
page.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(out / "cash_flows_sheet.png", optimize=True)

plot = crop(Image.open(work / "plots" / "dscr.png"))
if plot.width > 1000:
    plot = plot.resize((1000, round(plot.height * 1000 / plot.width)), Image.LANCZOS)
plot.save(out / "dscr_plot.png", optimize=True)

for name in ("cash_flows_sheet.png", "dscr_plot.png"):
    path = out / name
    size = path.stat().st_size
    print(f"{path}: {Image.open(path).size[0]}x{Image.open(path).size[1]} px, {size / 1024:.0f} KB")
    if size > 300 * 1024:
        sys.exit(f"error: {path} is over 300 KB")
PY
