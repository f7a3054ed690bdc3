package catalog

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"testing/fstest"

	"yiwang/internal/apperr"
)

// The limits of an uploaded catalogue archive, counted on the bytes actually
// decompressed, never on the sizes the zip headers declare, which whoever made
// the archive writes. They are far above any real catalogue (the bundled one
// is about 60 files and 0.5 MiB) and far below what would hurt the server.
const (
	maxZipEntries   = 5000     // entries, folders included
	maxZipFileBytes = 4 << 20  // decompressed bytes of one file
	maxZipBytes     = 64 << 20 // decompressed bytes of all files together
)

// OpenZip reads a catalogue archive into memory and returns the folder that
// holds departments.yaml. Each entry is decompressed through a limit, so a zip
// bomb is refused once it passes a limit, having allocated no more than that.
func OpenZip(body []byte) (fs.FS, error) {
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, apperr.NotAZip, "send the catalogue folder as a zip archive (Content-Type: application/zip)")
	}
	if len(zr.File) > maxZipEntries {
		return nil, apperr.New(apperr.Invalid, apperr.ArchiveTooLarge, "the archive holds %d entries; at most %d are accepted", len(zr.File), maxZipEntries)
	}
	// An in-memory folder: everything in it has passed the limits.
	files := fstest.MapFS{}
	root, found := "", false
	left := int64(maxZipBytes)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if !fs.ValidPath(f.Name) {
			return nil, apperr.New(apperr.Invalid, apperr.NotAZip, "the archive has an entry with an unusable path %q", f.Name)
		}
		b, err := readEntry(f, min(maxZipFileBytes, left))
		if err != nil {
			return nil, err
		}
		left -= int64(len(b))
		files[f.Name] = &fstest.MapFile{Data: b, Mode: 0o444}
		if dir, base := pathSplit(f.Name); base == DepartmentsFile && !found {
			root, found = dir, true
		}
	}
	// The catalogue may or may not be wrapped in a top folder.
	switch {
	case !found:
		return nil, apperr.New(apperr.Invalid, apperr.NoDepartmentsFile, "the archive holds no %s: zip the catalogue folder itself", DepartmentsFile)
	case root == "":
		return files, nil
	default:
		return fs.Sub(files, root)
	}
}

// readEntry decompresses one entry, refusing it once it passes max bytes.
func readEntry(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, apperr.NotAZip, "cannot read "+f.Name+" in the archive")
	}
	defer rc.Close()
	// The declared size only sizes the buffer, within the limit; the loop is
	// io.ReadAll's, with that start and a stop one byte past the limit.
	b := make([]byte, 0, min(f.UncompressedSize64, uint64(max))+1)
	for int64(len(b)) <= max {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rc.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, apperr.NotAZip, "the archive is damaged at "+f.Name)
		}
	}
	return nil, apperr.New(apperr.Invalid, apperr.ArchiveTooLarge, "the archive expands past its limit at %s", f.Name)
}
