package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers that sign a request the platform sends to another system (a
// webhook, an SMS gateway): the receiver recomputes the signature over the
// raw body and refuses a timestamp more than a few minutes off.
const (
	HeaderTimestamp = "X-Yiwang-Timestamp" // Unix seconds when it was signed
	HeaderSignature = "X-Yiwang-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Sign returns the signature header value of body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// PostSigned POSTs the JSON body to url, signed with secret at now, with
// the extra headers, and reads the answer as a channel must: a 2xx is
// delivered (nil); a 4xx other than 408 and 429 will never be taken and is
// Permanent; anything else is retried. who names the other side in errors.
func PostSigned(ctx context.Context, client *http.Client, who, url, secret string, body []byte, extra http.Header, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST to %s: %w", who, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	switch code := res.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return Permanent(fmt.Errorf("%s refused it: %s %s", who, res.Status, strings.TrimSpace(string(answer))))
	default:
		return fmt.Errorf("%s answered %s %s", who, res.Status, strings.TrimSpace(string(answer)))
	}
}
