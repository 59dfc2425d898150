// The official Go SDK (github.com/svix/svix-webhooks/go) against Hookflow, as a
// customer's code uses it. Run by test/svix-sdk-python-go.test.ts with HOOKFLOW_URL and
// HOOKFLOW_TOKEN (admin) set; the last line printed is `ok <steps>` when every step passed.
// Deliveries go to a receiver on loopback in this process and are checked with the SDK's
// own Webhook.Verify.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	svix "github.com/svix/svix-webhooks/go"
	"github.com/svix/svix-webhooks/go/models"
)

type delivery struct {
	headers http.Header
	body    []byte
}

type receiver struct {
	mu   sync.Mutex
	got  []delivery
	base string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, delivery{headers: req.Header.Clone(), body: body})
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// byID returns the deliveries of one message so far.
func (r *receiver) byID(id string) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.got {
		if d.headers.Get("webhook-id") == id {
			out = append(out, d)
		}
	}
	return out
}

var (
	ctx   = context.Background()
	steps []string
)

func check(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf(format, args...))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func noErr(err error) {
	if err != nil {
		panic(err)
	}
}

// status is the HTTP status of a failed call, 0 when it succeeded.
func status(err error) int {
	var e *svix.Error
	if errors.As(err, &e) {
		return e.Status()
	}
	check(err == nil, "not an API error: %v", err)
	return 0
}

func eventually[T any](what string, f func() (T, bool)) T {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if v, ok := f(); ok {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	panic("timed out waiting for " + what)
}

func firstDelivery(recv *receiver, id, what string) delivery {
	return eventually(what, func() (delivery, bool) {
		if d := recv.byID(id); len(d) > 0 {
			return d[0], true
		}
		return delivery{}, false
	})
}

func step(name string) {
	steps = append(steps, name)
	fmt.Println("step", name)
}

func ptr[T any](v T) *T { return &v }

func run() {
	serverURL := must(url.Parse(os.Getenv("HOOKFLOW_URL")))
	token := os.Getenv("HOOKFLOW_TOKEN")
	suffixBytes := make([]byte, 3)
	must(rand.Read(suffixBytes))
	suffix := hex.EncodeToString(suffixBytes)

	listener := must(net.Listen("tcp", "127.0.0.1:0"))
	recv := &receiver{base: "http://" + listener.Addr().String()}
	go func() { _ = http.Serve(listener, recv) }()
	defer listener.Close()

	client := must(svix.New(token, &svix.SvixOptions{ServerUrl: serverURL}))

	// Applications
	uid := "go-" + suffix
	app := must(client.Application.Create(ctx, models.ApplicationIn{
		Name: "Go app", Uid: ptr(uid), Metadata: &map[string]string{"tier": "gold"},
	}, nil))
	check(strings.HasPrefix(app.Id, "app_"), "app id %q", app.Id)
	same := must(client.Application.GetOrCreate(ctx, models.ApplicationIn{Name: "ignored", Uid: ptr(uid)}, nil))
	check(same.Id == app.Id, "getOrCreate gave %q", same.Id)
	check(must(client.Application.Get(ctx, uid)).Id == app.Id, "get by uid")
	updated := must(client.Application.Update(ctx, app.Id, models.ApplicationIn{
		Name: "Go app 2", Uid: ptr(uid), ThrottleRate: ptr(uint16(20)),
	}))
	check(updated.Name == "Go app 2" && updated.ThrottleRate != nil && *updated.ThrottleRate == 20, "update: %+v", updated)
	patched := must(client.Application.Patch(ctx, app.Id, models.ApplicationPatch{
		Metadata: &map[string]string{"tier": "platinum"},
	}))
	check(patched.Metadata["tier"] == "platinum" && patched.Name == "Go app 2", "patch: %+v", patched)
	list := must(client.Application.List(ctx, &svix.ApplicationListOptions{Limit: ptr(uint64(250))}))
	check(slices.ContainsFunc(list.Data, func(a models.ApplicationOut) bool { return a.Id == app.Id }), "listed")
	_, err := client.Application.Create(ctx, models.ApplicationIn{Name: "dup", Uid: ptr(uid)}, nil)
	check(status(err) == 409, "duplicate uid: %v", err)
	_, err = client.Application.Get(ctx, "app_nosuchthing")
	check(status(err) == 404, "unknown app: %v", err)
	step("applications")

	// Event types
	name := "invoice.paid." + suffix
	et := must(client.EventType.Create(ctx, models.EventTypeIn{Name: name, Description: "An invoice was paid"}, nil))
	check(et.Name == name && (et.Archived == nil || !*et.Archived), "event type: %+v", et)
	check(must(client.EventType.Get(ctx, name)).Description == "An invoice was paid", "get event type")
	up := must(client.EventType.Update(ctx, name, models.EventTypeUpdate{Description: "Paid", Deprecated: ptr(true)}))
	check(up.Deprecated, "deprecated")
	noErr(client.EventType.Delete(ctx, name, nil))
	check(*must(client.EventType.Get(ctx, name)).Archived, "an archived event type stays readable (Svix)")
	noErr(client.EventType.Delete(ctx, name, &svix.EventTypeDeleteOptions{Expunge: ptr(true)}))
	_, err = client.EventType.Get(ctx, name)
	check(status(err) == 404, "expunged: %v", err)
	orderType := "order.created." + suffix
	must(client.EventType.Create(ctx, models.EventTypeIn{Name: orderType, Description: "An order"}, nil))
	step("event types")

	// Endpoints, headers, secret
	epURL := recv.base + "/go"
	ep := must(client.Endpoint.Create(ctx, app.Id, models.EndpointIn{Url: epURL, FilterTypes: []string{orderType}}, nil))
	check(strings.HasPrefix(ep.Id, "ep_"), "endpoint id %q", ep.Id)
	check(must(client.Endpoint.Get(ctx, app.Id, ep.Id)).Url == epURL, "endpoint url")
	pe := must(client.Endpoint.Patch(ctx, app.Id, ep.Id, models.EndpointPatch{Description: ptr("go")}))
	check(pe.Description == "go", "endpoint patch: %+v", pe)
	noErr(client.Endpoint.UpdateHeaders(ctx, app.Id, ep.Id, models.EndpointHeadersIn{
		Headers: map[string]string{"X-One": "1", "X-Two": "2"},
	}))
	noErr(client.Endpoint.PatchHeaders(ctx, app.Id, ep.Id, models.EndpointHeadersPatchIn{
		Headers: map[string]string{"X-Three": "3"}, DeleteHeaders: []string{"X-One"},
	}))
	headers := must(client.Endpoint.GetHeaders(ctx, app.Id, ep.Id))
	check(len(headers.Headers) == 2 && headers.Headers["x-two"] == "2" && headers.Headers["x-three"] == "3",
		"headers: %+v", headers.Headers)
	secret := must(client.Endpoint.GetSecret(ctx, app.Id, ep.Id)).Key
	check(strings.HasPrefix(secret, "whsec_"), "secret %q", secret)
	step("endpoints and headers")

	// Messages, a real delivery verified with Webhook.Verify, attempts, resend
	msg := must(client.Message.Create(ctx, app.Id, models.MessageIn{
		EventType: orderType, Payload: map[string]any{"orderId": "o_1"},
	}, nil))
	check(strings.HasPrefix(msg.Id, "msg_"), "message id %q", msg.Id)
	check(must(client.Message.Get(ctx, app.Id, msg.Id, nil)).EventType == orderType, "get message")
	got := firstDelivery(recv, msg.Id, "the delivery")
	wh := must(svix.NewWebhook(secret))
	noErr(wh.Verify(got.body, got.headers))
	var payload map[string]any
	noErr(json.Unmarshal(got.body, &payload))
	check(payload["orderId"] == "o_1", "payload %v", payload)
	check(got.headers.Get("x-two") == "2" && got.headers.Get("x-one") == "", "custom headers %v", got.headers)
	wrong := must(svix.NewWebhook("whsec_" + strings.Repeat("A", 32)))
	check(wrong.Verify(got.body, got.headers) != nil, "a wrong secret verified")
	attempts := eventually("a successful attempt", func() ([]models.MessageAttemptOut, bool) {
		page := must(client.MessageAttempt.ListByMsg(ctx, app.Id, msg.Id, nil))
		return page.Data, len(page.Data) > 0 && page.Data[0].Status == models.MESSAGESTATUS_SUCCESS
	})
	check(attempts[0].EndpointId == ep.Id && attempts[0].ResponseStatusCode == 200, "attempt %+v", attempts[0])
	byEp := must(client.MessageAttempt.ListByEndpoint(ctx, app.Id, ep.Id, nil))
	check(slices.ContainsFunc(byEp.Data, func(a models.MessageAttemptOut) bool { return a.MsgId == msg.Id }), "by endpoint")
	must(client.MessageAttempt.Resend(ctx, app.Id, msg.Id, ep.Id, nil))
	eventually("the resent delivery", func() (bool, bool) { return true, len(recv.byID(msg.Id)) >= 2 })
	step("messages, verify, attempts, resend")

	// Secret rotation: the next delivery verifies with the new secret.
	noErr(client.Endpoint.RotateSecret(ctx, app.Id, ep.Id, models.EndpointSecretRotateIn{}, nil))
	rotated := must(client.Endpoint.GetSecret(ctx, app.Id, ep.Id)).Key
	check(rotated != secret && strings.HasPrefix(rotated, "whsec_"), "rotated %q", rotated)
	second := must(client.Message.Create(ctx, app.Id, models.MessageIn{
		EventType: orderType, Payload: map[string]any{"orderId": "o_2"},
	}, nil))
	got2 := firstDelivery(recv, second.Id, "the delivery after rotation")
	noErr(must(svix.NewWebhook(rotated)).Verify(got2.body, got2.headers))
	step("secret rotation")

	// Portal access: a token for this application only, refused after logout.
	access := must(client.Authentication.AppPortalAccess(ctx, app.Id, models.AppPortalAccessIn{}, nil))
	check(strings.Contains(access.Url, "#token="+access.Token), "portal url %q", access.Url)
	tenant := must(svix.New(access.Token, &svix.SvixOptions{ServerUrl: serverURL}))
	check(must(tenant.Application.Get(ctx, app.Id)).Id == app.Id, "tenant reads its app")
	_, err = tenant.Application.List(ctx, nil)
	check(status(err) == 403, "tenant lists apps: %v", err)
	noErr(tenant.Authentication.Logout(ctx, nil))
	_, err = tenant.Application.Get(ctx, app.Id)
	check(status(err) == 401, "after logout: %v", err)
	step("portal access and logout")

	rawPayloads(client, recv, app.Id, orderType, rotated)
	expunge(client, app.Id, second.Id, ep.Id)
	listOrders(client, recv, app.Id, orderType, ep.Id)
	backgroundTasks(client, recv, app.Id, orderType, ep.Id)
	expireAll(client, serverURL, app.Id)

	noErr(client.Endpoint.Delete(ctx, app.Id, ep.Id))
	noErr(client.Application.Delete(ctx, app.Id))
	_, err = client.Application.Get(ctx, app.Id)
	check(status(err) == 404, "deleted app: %v", err)
	noErr(client.EventType.Delete(ctx, orderType, &svix.EventTypeDeleteOptions{Expunge: ptr(true)}))
	fmt.Println("ok " + strings.Join(steps, ","))
}

func main() {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "FAILED after steps %v: %v\n", steps, r)
			os.Exit(1)
		}
	}()
	run()
}
