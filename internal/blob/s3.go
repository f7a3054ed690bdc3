package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"yiwang/internal/apperr"
)

// S3 stores blobs as objects in a bucket of an S3-compatible object store
// (MinIO, SeaweedFS, Ceph, a government cloud's object storage), under the
// keys <prefix>ab/cd/abcd… — the disk store's layout — so that every process
// of a cluster reads what any of them took in.
//
// An upload is staged and checked on the local disk like FS's, then sent as
// one PUT of known size: S3 makes an object visible only once the whole
// PUT has arrived, so a crash or a refusal leaves nothing half-written in
// the bucket. Content already in the bucket is not sent again.
type S3 struct {
	intake
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	where  string // the bucket and endpoint, for messages
}

// S3URLForm is the form of an s3:// blob URL, for messages and help.
const S3URLForm = "s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=REGION][&tls=false]"

// s3Location is what an s3:// URL names.
type s3Location struct {
	bucket, prefix   string
	endpoint, region string
	secure           bool
}

// S3Where names the bucket and endpoint of an s3:// URL, for records such as
// a backup's manifest, without connecting.
func S3Where(raw string) (bucket, endpoint string, err error) {
	loc, err := parseS3URL(raw)
	return loc.bucket, loc.endpoint, err
}

// parseS3URL reads S3URLForm. Credentials have no place in it: a URL is
// shown in process lists and logs, so they come from the environment.
func parseS3URL(raw string) (s3Location, error) {
	bad := func(format string, args ...any) (s3Location, error) {
		return s3Location{}, apperr.New(apperr.Invalid, apperr.BadBlobStore, "--blob-url: "+format+"; the form is "+S3URLForm, args...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", err)
	}
	if u.Scheme != "s3" {
		return bad("%q is not an s3:// URL", u.Scheme+"://")
	}
	if u.User != nil {
		return bad("credentials do not go in the URL (it shows in process lists and logs): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	loc := s3Location{bucket: u.Host, secure: true}
	if err := s3utils.CheckValidBucketNameStrict(loc.bucket); err != nil {
		return bad("bucket %q: %v", loc.bucket, err)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		loc.prefix = p + "/"
	}
	for name, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch name {
		case "endpoint":
			if strings.Contains(v, "://") {
				return bad("endpoint=%s: give host:port without a scheme (tls=false for plain http)", v)
			}
			loc.endpoint = v
		case "region":
			loc.region = v
		case "tls":
			if loc.secure, err = strconv.ParseBool(v); err != nil {
				return bad("tls=%s: must be true or false", v)
			}
		default:
			return bad("unknown parameter %q (endpoint, region and tls are known)", name)
		}
	}
	if loc.endpoint == "" {
		return bad("endpoint=HOST:PORT is missing")
	}
	return loc, nil
}

// s3Credentials reads the access key from the environment variables every
// S3 tool reads. Neither set means anonymous requests, for an object store
// that allows them.
func s3Credentials(getenv func(string) string) (*credentials.Credentials, error) {
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if (id == "") != (secret == "") {
		return nil, apperr.New(apperr.Invalid, apperr.BadBlobStore, "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set: set both, or neither for an object store that takes anonymous requests")
	}
	return credentials.NewStaticV4(id, secret, getenv("AWS_SESSION_TOKEN")), nil
}

// startCheck bounds how long OpenS3 waits for the object store to answer.
const startCheck = 15 * time.Second

// maxSinglePut is the largest object S3 takes in one PUT; larger uploads
// go in parts, which the store also shows only once complete.
const maxSinglePut = 5 << 30

// OpenS3 connects to the bucket rawURL names (S3URLForm), staging uploads in
// the local folder staging, and checks that the bucket is there: a store
// that cannot be used fails here, at start, in one line, rather than at
// the first upload.
func OpenS3(ctx context.Context, rawURL, staging string, l Limits, getenv func(string) string) (*S3, error) {
	loc, err := parseS3URL(rawURL)
	if err != nil {
		return nil, err
	}
	creds, err := s3Credentials(getenv)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(loc.endpoint, &minio.Options{
		Creds:  creds,
		Secure: loc.secure,
		Region: loc.region,
		// A few tries ride out a hiccup; more would keep a person's upload
		// waiting on an object store that is down.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, apperr.BadBlobStore, "--blob-url: endpoint "+loc.endpoint+" is not usable")
	}
	in, err := newIntake(staging, l)
	if err != nil {
		return nil, err
	}
	s := &S3{intake: in, client: client, bucket: loc.bucket, prefix: loc.prefix,
		where: fmt.Sprintf("bucket %q at %s", loc.bucket, client.EndpointURL())}
	cctx, cancel := context.WithTimeout(ctx, startCheck)
	defer cancel()
	if err := s.Check(cctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3) key(digest string) string { return s.prefix + key(digest) }

// Put stages r, checks it and sends it to the bucket unless it is there.
func (s *S3) Put(ctx context.Context, r io.Reader) (Info, error) {
	return s.put(ctx, r, s.has, s.commit)
}

// has reports whether the bucket holds the blob whole.
func (s *S3) has(ctx context.Context, info Info) (bool, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, s.key(info.Digest), minio.StatObjectOptions{})
	switch {
	case isNoSuchKey(err):
		return false, nil
	case err != nil:
		return false, s.failure(err)
	}
	return oi.Size == info.Size, nil
}

// commit sends the staged file as one object.
func (s *S3) commit(ctx context.Context, st *staged) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.key(st.Digest), io.NewSectionReader(st.File, 0, st.Size), st.Size,
		minio.PutObjectOptions{ContentType: st.MediaType, DisableMultipart: st.Size <= maxSinglePut})
	if err != nil {
		return s.failure(err)
	}
	return nil
}

// Open returns the blob's content, read from the bucket as it is consumed.
func (s *S3) Open(ctx context.Context, digest string) (io.ReadCloser, error) {
	obj, _, err := s.object(ctx, digest)
	return obj, err
}

// Stat describes a stored blob.
func (s *S3) Stat(ctx context.Context, digest string) (Info, error) {
	obj, size, err := s.object(ctx, digest)
	if err != nil {
		return Info{}, err
	}
	defer obj.Close()
	return describe(digest, obj, size)
}

// object opens the blob's object, finding out first whether it exists.
func (s *S3) object(ctx context.Context, digest string) (*minio.Object, int64, error) {
	if err := checkDigest(digest); err != nil {
		return nil, 0, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(digest), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, s.failure(err)
	}
	oi, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isNoSuchKey(err) {
			return nil, 0, notFound(digest)
		}
		return nil, 0, s.failure(err)
	}
	return obj, oi.Size, nil
}

// Check asks the object store whether the bucket is there, for /readyz
// and at start.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	switch {
	case err != nil:
		return s.failure(err)
	case !ok:
		return apperr.New(apperr.Unavailable, apperr.BlobBucketMissing,
			"the %s does not exist: create it, or name another bucket in --blob-url", s.where)
	}
	return nil
}

func isNoSuchKey(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == minio.NoSuchKey
}

// failure words an error of the object store so that an operator knows
// where to look.
func (s *S3) failure(err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.AccessDenied || resp.Code == minio.InvalidAccessKeyID || resp.Code == minio.SignatureDoesNotMatch:
		return apperr.Wrap(err, apperr.Unavailable, apperr.BlobStoreDenied,
			fmt.Sprintf("the object store refused access to the %s: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and what that key may do", s.where))
	case resp.Code != "":
		return unavailable(err, "the object store holding the %s answered with an error", s.where)
	case errors.Is(err, context.DeadlineExceeded):
		return unavailable(err, "the object store holding the %s did not answer in time", s.where)
	}
	return unavailable(err, "cannot reach the object store holding the %s: check that it runs and that --blob-url's endpoint and tls are right", s.where)
}
