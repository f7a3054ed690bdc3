// Package webhook tells other government systems of the platform's events:
// the outbox's webhook channel (docs/NOTIFICATIONS.md). Each endpoint is a
// URL with its own secret and the kinds of message it subscribes to; a
// message is POSTed to it as JSON, signed with HMAC-SHA256 over the
// timestamp and the body, so the receiver can tell it came from the
// platform, unchanged and recently.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"yiwang/internal/notify"
)

// The headers of a delivery besides its signature (notify.HeaderTimestamp,
// notify.HeaderSignature).
const (
	HeaderDelivery = "X-Yiwang-Delivery" // the delivery's id, the same on every retry: the receiver deduplicates on it
	HeaderEvent    = "X-Yiwang-Event"    // the message's kind
)

// Endpoint is another system the platform tells of its events.
type Endpoint struct {
	Name   string        `yaml:"name"`
	URL    string        `yaml:"url"`
	Kinds  []notify.Kind `yaml:"kinds"`
	Secret string        `yaml:"-"` // from the environment variable SecretEnv, never from the file
	// SecretEnv names the environment variable holding the secret, so the
	// file can be kept with the configuration and the secret with secrets.
	SecretEnv string `yaml:"secret_env"`
}

// minSecret is the shortest secret taken: an HMAC key shorter than this
// could be guessed.
const minSecret = 32

// Load reads the endpoints file (YAML: endpoints: [{name, url, secret_env,
// kinds}]) and their secrets through getenv. Errors name the endpoint and
// what to fix.
func Load(path string, getenv func(string) string) ([]Endpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhooks file: %w", err)
	}
	var file struct {
		Endpoints []Endpoint `yaml:"endpoints"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("webhooks file %s: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range file.Endpoints {
		e := &file.Endpoints[i]
		e.Secret = getenv(e.SecretEnv)
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("webhooks file %s, endpoint %d (%s): %w", path, i+1, e.Name, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("webhooks file %s: two endpoints are named %q: give each its own name", path, e.Name)
		}
		seen[e.Name] = true
	}
	return file.Endpoints, nil
}

func (e Endpoint) check() error {
	u, err := url.Parse(e.URL)
	switch {
	case strings.TrimSpace(e.Name) == "":
		return errors.New("has no name")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("url %q is not an http(s) address", e.URL)
	case e.SecretEnv == "":
		return errors.New("has no secret_env naming the variable that holds its secret")
	case len(e.Secret) < minSecret:
		return fmt.Errorf("the secret in %s has %d characters; give at least %d (e.g. `openssl rand -hex 32`)", e.SecretEnv, len(e.Secret), minSecret)
	case len(e.Kinds) == 0:
		return fmt.Errorf("subscribes to no kinds: list some of %v", notify.Kinds)
	}
	for _, k := range e.Kinds {
		if !slices.Contains(notify.Kinds, k) {
			return fmt.Errorf("kind %q is not one of %v", k, notify.Kinds)
		}
		if k == notify.AccountSecurity {
			return fmt.Errorf("kind %s goes to the account's holder only, never to another system", k)
		}
	}
	return nil
}

// Subscriptions maps each kind to the endpoints it is forwarded to, for
// notify.Outbox.Forward.
func Subscriptions(endpoints []Endpoint) map[notify.Kind][]string {
	subs := map[notify.Kind][]string{}
	for _, e := range endpoints {
		for _, k := range e.Kinds {
			subs[k] = append(subs[k], e.Name)
		}
	}
	return subs
}

// Channel is the webhook channel.
type Channel struct {
	endpoints map[string]Endpoint
	client    *http.Client
	site      string
	now       func() time.Time
}

// New returns the channel POSTing to endpoints; site is the platform's
// public address, for the message's link.
func New(endpoints []Endpoint, site string) *Channel {
	c := &Channel{endpoints: map[string]Endpoint{}, client: &http.Client{Timeout: 30 * time.Second}, site: strings.TrimRight(site, "/"), now: time.Now}
	for _, e := range endpoints {
		c.endpoints[e.Name] = e
	}
	return c
}

// Name is notify.ChannelWebhook.
func (*Channel) Name() string { return notify.ChannelWebhook }

// Event is the JSON body of a delivery. It carries no personal data: the
// receiving system looks the application up by its id.
type Event struct {
	ID            int64       `json:"id"` // the delivery's id, as in X-Yiwang-Delivery
	Kind          notify.Kind `json:"kind"`
	TitleZh       string      `json:"title_zh"`
	TitleEn       string      `json:"title_en"`
	BodyZh        string      `json:"body_zh"`
	BodyEn        string      `json:"body_en"`
	Link          string      `json:"link,omitempty"` // absolute, on the platform's public address
	ApplicationID int64       `json:"application_id,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
}

// Deliver POSTs m to its endpoint, signed (notify.PostSigned: a 2xx
// delivers, a 4xx other than 408 and 429 fails it at once, anything else is
// retried).
func (c *Channel) Deliver(ctx context.Context, m notify.Message) error {
	e, ok := c.endpoints[m.Target]
	if !ok {
		return notify.Permanent(fmt.Errorf("no webhook endpoint named %q is configured", m.Target))
	}
	ev := Event{ID: m.ID, Kind: m.Kind, TitleZh: m.TitleZh, TitleEn: m.TitleEn, BodyZh: m.BodyZh, BodyEn: m.BodyEn,
		ApplicationID: m.ApplicationID, CreatedAt: m.CreatedAt}
	if m.Link != "" {
		ev.Link = c.site + m.Link
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return notify.Permanent(err)
	}
	return notify.PostSigned(ctx, c.client, e.Name, e.URL, e.Secret, body, http.Header{
		HeaderDelivery: {strconv.FormatInt(m.ID, 10)},
		HeaderEvent:    {string(m.Kind)},
	}, c.now())
}
