package blob

import (
	"context"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Keys lists the objects under the store's prefix, relative to it, for the
// tests' look at what a store holds.
func (s *S3) Keys(ctx context.Context) ([]string, error) {
	var out []string
	for oi := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, oi.Err
		}
		out = append(out, strings.TrimPrefix(oi.Key, s.prefix))
	}
	return out, nil
}
