package insight

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"yiwang/internal/authz"
	"yiwang/internal/web"
)

// exportCSV writes the dashboard's tables one after another, each headed by
// its title, with a byte-order mark so that spreadsheet programs read the
// Chinese right.
func (h *Handler) exportCSV(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.View(r.Context(), authz.From(r.Context()), filterOf(r))
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	for i, t := range d.Tables(web.Lang(w, r)) {
		if i > 0 {
			cw.Write(nil)
		}
		cw.Write([]string{t.Title})
		cw.Write(t.Header)
		cw.WriteAll(t.Rows)
	}
	cw.Flush()
	send(w, b.Bytes(), "text/csv; charset=utf-8", exportName(d.Filter, "csv"))
}

// exportXLSX writes the dashboard's tables as an Excel workbook, one sheet
// each.
func (h *Handler) exportXLSX(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.View(r.Context(), authz.From(r.Context()), filterOf(r))
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	b, err := workbook(d.Tables(web.Lang(w, r)))
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	send(w, b, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exportName(d.Filter, "xlsx"))
}

// workbook is tables as an .xlsx file: a sheet per table, its header first.
func workbook(tables []Table) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	for i, t := range tables {
		sheet := sheetName(t.Title)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			return nil, err
		}
		for j, row := range append([][]string{t.Header}, t.Rows...) {
			cells := make([]any, len(row))
			for k, c := range row {
				cells[k] = c
				if n, err := strconv.ParseFloat(c, 64); err == nil && j > 0 && k > 0 {
					cells[k] = n // a figure, so that the sheet can add it up
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
				return nil, err
			}
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("insight: write the workbook: %w", err)
	}
	return b.Bytes(), nil
}

func exportName(f Filter, ext string) string {
	return fmt.Sprintf("insight-%s-%s.%s", f.From, f.To, ext)
}

func send(w http.ResponseWriter, b []byte, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b)
}

// sheetName is a table's title as Excel allows a sheet's name: up to its
// first colon, at most 31 characters.
func sheetName(title string) string {
	title, _, _ = strings.Cut(title, "：")
	title, _, _ = strings.Cut(title, ":")
	r := []rune(title)
	return string(r[:min(len(r), 31)])
}
