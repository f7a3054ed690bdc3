package catalog_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
)

// zipEntry is one file of a generated archive.
type zipEntry struct {
	name string
	data []byte
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zeros is a deflate stream of n zero bytes and their checksum.
type zeros struct {
	n   int64
	raw []byte
	crc uint32
}

func deflateZeros(t testing.TB, n int64) zeros {
	t.Helper()
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
	crc := crc32.NewIEEE()
	chunk := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(chunk)) {
		b := chunk[:min(left, int64(len(chunk)))]
		fw.Write(b)
		crc.Write(b)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return zeros{n: n, raw: raw.Bytes(), crc: crc.Sum32()}
}

// bombZip returns an archive with a small departments.yaml and one entry per
// name holding z, whose header declares declared bytes (z.n when 0): the
// compressed stream is written once and copied, so a bomb is cheap to make.
func bombZip(t testing.TB, z zeros, declared uint64, names ...string) []byte {
	t.Helper()
	if declared == 0 {
		declared = uint64(z.n)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(catalog.DepartmentsFile)
	w.Write([]byte("departments: []\n"))
	for _, name := range names {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: z.crc,
			CompressedSize64: uint64(len(z.raw)), UncompressedSize64: declared})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(z.raw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipBombIsRefused feeds the catalogue import's loader archives that
// expand past its limits, some with headers that lie about their sizes: each
// is refused with archive_too_large or not_a_zip, having allocated little
// more than the limit.
func TestZipBombIsRefused(t *testing.T) {
	big, small := deflateZeros(t, 8<<20), deflateZeros(t, 3<<20)
	var many []string
	for i := range 23 { // 69 MiB in all
		many = append(many, "items/"+strings.Repeat("x", i+1)+".yaml")
	}
	entries := make([]zipEntry, 5001)
	for i := range entries {
		entries[i] = zipEntry{name: strings.Repeat("d", i%50+1) + "/" + string(rune('a'+i%26)) + ".txt"}
	}
	cases := []struct {
		name string
		zip  []byte
		code apperr.Code
	}{
		{"one file of 8 MiB of zeros", bombZip(t, big, 0, "items/a.yaml"), apperr.ArchiveTooLarge},
		{"23 files of 3 MiB, 69 MiB in all", bombZip(t, small, 0, many...), apperr.ArchiveTooLarge},
		{"too many entries", makeZip(t, entries...), apperr.ArchiveTooLarge},
		{"header says 2^62 bytes, holds 3 MiB", bombZip(t, small, 1<<62, "items/a.yaml"), apperr.NotAZip},
		{"header says 1 TiB, holds 3 MiB", bombZip(t, small, 1<<40, "items/a.yaml"), apperr.NotAZip},
		{"header says 1 KiB, expands to 8 MiB", bombZip(t, big, 1<<10, "items/a.yaml"), apperr.NotAZip},
		{"header says 1 KiB, expands to 3 MiB", bombZip(t, small, 1<<10, "items/a.yaml"), apperr.NotAZip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := catalog.OpenZip(c.zip)
			runtime.ReadMemStats(&after)
			if e := apperr.As(err); e == nil || e.Code != c.code {
				t.Fatalf("OpenZip = %v, want code %s", err, c.code)
			}
			if w, ok := apperr.As(err).Code.Words(); !ok || w.Zh == "" {
				t.Errorf("code %s has no words", c.code)
			}
			// The whole-archive limit is 64 MiB: what was read up to it, and little more.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 80<<20 {
				t.Errorf("allocated %d MiB reading the archive", grew>>20)
			}
		})
	}
}

// TestZipOfTheDemoCatalogueLoads keeps a real catalogue loading through the
// archive path, wrapped in a top folder or not.
func TestZipOfTheDemoCatalogueLoads(t *testing.T) {
	var files []zipEntry
	err := fs.WalkDir(os.DirFS("../../catalog"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("../../catalog", p))
		files = append(files, zipEntry{name: p, data: b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := make([]zipEntry, len(files))
	for i, f := range files {
		wrapped[i] = zipEntry{name: "catalog/" + f.name, data: f.data}
	}
	for name, z := range map[string][]byte{"bare": makeZip(t, files...), "wrapped": makeZip(t, wrapped...)} {
		fsys, err := catalog.OpenZip(z)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, problems := schemas(t).LoadFS(fsys)
		if len(problems) > 0 || len(c.Items) == 0 {
			t.Errorf("%s: %d items, problems %v", name, len(c.Items), problems)
		}
	}
}

// FuzzOpenZip feeds the catalogue import's loader any archive: it never
// panics, refuses with one of its codes, and what it accepts is a folder
// with departments.yaml whose files are within the limits and load (with or
// without problems) without panicking.
func FuzzOpenZip(f *testing.F) {
	f.Add(makeZip(f, zipEntry{name: "departments.yaml", data: []byte("departments: []\n")}, zipEntry{name: "items/a.yaml", data: []byte("code: x\n")}))
	f.Add(makeZip(f, zipEntry{name: "top/departments.yaml", data: []byte("regions: []\n")}))
	f.Add(makeZip(f, zipEntry{name: "../departments.yaml"}))
	f.Add(bombZip(f, deflateZeros(f, 1<<10), 1<<62, "items/a.yaml"))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	s := schemas(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys, err := catalog.OpenZip(b)
		if err != nil {
			if e := apperr.As(err); e == nil || !slices.Contains([]apperr.Code{apperr.NotAZip, apperr.ArchiveTooLarge, apperr.NoDepartmentsFile}, e.Code) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		if _, err := fs.Stat(fsys, catalog.DepartmentsFile); err != nil {
			t.Fatalf("accepted an archive without %s: %v", catalog.DepartmentsFile, err)
		}
		total := 0
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(fsys, p)
				total += len(b)
			}
			return nil
		})
		if total > 64<<20 {
			t.Fatalf("accepted %d bytes", total)
		}
		s.LoadFS(fsys)
	})
}
