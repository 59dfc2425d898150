// The round trip's steps for what issue 23 found missing or different from Svix: raw
// payloads, expunging, list orders, send-example, background tasks, expire-all.
package main

import (
	"bytes"
	"net/url"
	"slices"
	"time"

	svix "github.com/svix/svix-webhooks/go"
	"github.com/svix/svix-webhooks/go/models"
)

// rawPayloads: NewMessageInRaw's text reaches the receiver byte for byte, with the
// content-type asked for (application/json by default), signed over those bytes.
func rawPayloads(client *svix.Svix, recv *receiver, appId, eventType, secret string) {
	wh := must(svix.NewWebhook(secret))
	xml := "<order id=\"7\">\n  <total>42.00</total><note>é 🎉</note>\n</order>"
	msg := must(client.Message.Create(ctx, appId, *svix.NewMessageInRaw(eventType, xml, ptr("application/xml")), nil))
	got := firstDelivery(recv, msg.Id, "the raw XML delivery")
	check(bytes.Equal(got.body, []byte(xml)), "raw body %q", got.body)
	check(got.headers.Get("content-type") == "application/xml", "content-type %q", got.headers.Get("content-type"))
	noErr(wh.Verify(got.body, got.headers))
	check(len(must(client.Message.Get(ctx, appId, msg.Id, nil)).Payload) == 0, "a non-JSON raw payload reads as {}")

	json := "{ \"id\" : 9007199254740993,\n \"b\": 1e400 }"
	jsonMsg := must(client.Message.Create(ctx, appId, *svix.NewMessageInRaw(eventType, json, nil), nil))
	gotJSON := firstDelivery(recv, jsonMsg.Id, "the raw JSON delivery")
	check(bytes.Equal(gotJSON.body, []byte(json)), "raw JSON body %q", gotJSON.body)
	check(gotJSON.headers.Get("content-type") == "application/json", "content-type %q", gotJSON.headers.Get("content-type"))
	noErr(wh.Verify(gotJSON.body, gotJSON.headers))
	step("raw payloads")
}

// expunge: an attempt's response reads EXPUNGED, the message's payload {"expired": true},
// and the message can no longer be resent (400).
func expunge(client *svix.Svix, appId, msgId, endpointId string) {
	attempts := must(client.MessageAttempt.ListByMsg(ctx, appId, msgId, nil))
	check(len(attempts.Data) > 0, "attempts of %s", msgId)
	attemptId := attempts.Data[0].Id
	noErr(client.MessageAttempt.ExpungeContent(ctx, appId, msgId, attemptId))
	check(must(client.MessageAttempt.Get(ctx, appId, msgId, attemptId, nil)).Response == "EXPUNGED", "attempt response expunged")
	noErr(client.Message.ExpungeContent(ctx, appId, msgId))
	payload := must(client.Message.Get(ctx, appId, msgId, nil)).Payload
	check(len(payload) == 1 && payload["expired"] == true, "expunged payload %v", payload)
	_, err := client.MessageAttempt.Resend(ctx, appId, msgId, endpointId, nil)
	check(status(err) == 400, "resend of an expunged message: %v", err)
	step("expunge")
}

// listOrders: endpoints newest first, a message's attempted destinations by ascending id;
// send-example answers the message it sent.
func listOrders(client *svix.Svix, recv *receiver, appId, eventType, firstEndpoint string) {
	ids := []string{firstEndpoint}
	for _, path := range []string{"/go/2", "/go/3"} {
		ep := must(client.Endpoint.Create(ctx, appId, models.EndpointIn{Url: recv.base + path, FilterTypes: []string{eventType}}, nil))
		ids = append(ids, ep.Id)
	}
	var listed []string
	for _, e := range must(client.Endpoint.List(ctx, appId, nil)).Data {
		listed = append(listed, e.Id)
	}
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)
	check(slices.Equal(listed, newestFirst), "endpoint list order %v, want %v", listed, newestFirst)
	msg := must(client.Message.Create(ctx, appId, models.MessageIn{EventType: eventType, Payload: map[string]any{"orderId": "o_3"}}, nil))
	dests := eventually("three destinations", func() ([]string, bool) {
		var out []string
		for _, d := range must(client.MessageAttempt.ListAttemptedDestinations(ctx, appId, msg.Id, nil)).Data {
			out = append(out, d.Id)
		}
		return out, len(out) == 3
	})
	check(slices.Equal(dests, ids), "destinations %v, want %v", dests, ids)
	example := must(client.Endpoint.SendExample(ctx, appId, firstEndpoint, models.EventExampleIn{EventType: "svix.ping"}, nil))
	check(example.EventType == "svix.ping" && example.Payload["success"] == true, "send-example %+v", example)
	step("list orders and send example")
}

// backgroundTasks: after a recover, a replay-missing and an endpoint deletion the whole list
// decodes (Svix's enums only) and get shows messagesSent.
func backgroundTasks(client *svix.Svix, recv *receiver, appId, eventType, endpointId string) {
	since := time.Now().Add(-5 * time.Minute)
	late := must(client.Endpoint.Create(ctx, appId, models.EndpointIn{Url: recv.base + "/go/late", FilterTypes: []string{eventType}}, nil))
	recovered := must(client.Endpoint.Recover(ctx, appId, endpointId, models.RecoverIn{Since: since}, nil))
	replayed := must(client.Endpoint.ReplayMissing(ctx, appId, late.Id, models.ReplayIn{Since: since}, nil))
	done := func(id string) *models.BackgroundTaskOut {
		return eventually("task "+id, func() (*models.BackgroundTaskOut, bool) {
			t := must(client.BackgroundTask.Get(ctx, id))
			return t, t.Status != models.BACKGROUNDTASKSTATUS_RUNNING
		})
	}
	r := done(recovered.Id)
	check(r.Task == models.BACKGROUNDTASKTYPE_ENDPOINT_RECOVER && r.Status == models.BACKGROUNDTASKSTATUS_FINISHED &&
		r.Data["messagesSent"] == float64(0), "recover task %+v", r)
	p := done(replayed.Id)
	sent, _ := p.Data["messagesSent"].(float64)
	check(p.Task == models.BACKGROUNDTASKTYPE_ENDPOINT_REPLAY && p.Status == models.BACKGROUNDTASKSTATUS_FINISHED && sent >= 1,
		"replay-missing task %+v", p)
	noErr(client.Endpoint.Delete(ctx, appId, late.Id))
	tasks := must(client.BackgroundTask.List(ctx, &svix.BackgroundTaskListOptions{Limit: ptr(uint64(250))}))
	var ids []string
	for _, t := range tasks.Data {
		ids = append(ids, t.Id)
	}
	check(slices.Contains(ids, recovered.Id) && slices.Contains(ids, replayed.Id), "listed tasks %v", ids)
	step("background tasks")
}

// expireAll: every portal token of the application stops working; one issued after works.
func expireAll(client *svix.Svix, serverURL *url.URL, appId string) {
	access := must(client.Authentication.AppPortalAccess(ctx, appId, models.AppPortalAccessIn{}, nil))
	tenant := must(svix.New(access.Token, &svix.SvixOptions{ServerUrl: serverURL}))
	check(must(tenant.Application.Get(ctx, appId)).Id == appId, "tenant reads its app")
	noErr(client.Authentication.ExpireAll(ctx, appId, models.ApplicationTokenExpireIn{}, nil))
	_, err := tenant.Application.Get(ctx, appId)
	check(status(err) == 401, "after expire-all: %v", err)
	fresh := must(client.Authentication.AppPortalAccess(ctx, appId, models.AppPortalAccessIn{}, nil))
	check(must(must(svix.New(fresh.Token, &svix.SvixOptions{ServerUrl: serverURL})).Application.Get(ctx, appId)).Id == appId,
		"a token issued after expire-all works")
	step("expire-all")
}
