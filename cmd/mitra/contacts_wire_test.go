package main

import (
	"io"
	"log/slog"
	"testing"

	"mitra/internal/platform/config"
	"mitra/internal/platform/sms"
	"mitra/internal/platform/whatsapp"
)

// Which channels emergency contacts are offered follows the configuration.
func TestContactSenders(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	load := func(env map[string]string) config.Config {
		t.Helper()
		c, _, err := config.Load("serve", func(k string) string { return env[k] }, nil, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Development: both channels write to the log.
	cfg := load(nil)
	otp, err := otpSender(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := contactSenders(cfg, otp, log)
	if err != nil || ts.SMS == nil || ts.WhatsApp == nil || ts.WhatsApp.Name() != "log" {
		t.Fatalf("development: %+v %v", ts, err)
	}
	// MSG91 without flow templates sends codes but no contact messages;
	// WhatsApp off offers no WhatsApp.
	cfg = load(map[string]string{"MITRA_SMS_PROVIDER": "msg91", "MITRA_MSG91_AUTH_KEY": "k", "MITRA_MSG91_TEMPLATE_ID": "t", "MITRA_WHATSAPP_PROVIDER": "off"})
	otp, _ = otpSender(cfg, log)
	if ts, err = contactSenders(cfg, otp, log); err != nil || ts.SMS != nil || ts.WhatsApp != nil {
		t.Fatalf("msg91 without flows: %+v %v", ts, err)
	}
	cfg = load(map[string]string{"MITRA_SMS_PROVIDER": "msg91", "MITRA_MSG91_AUTH_KEY": "k", "MITRA_MSG91_TEMPLATE_ID": "t",
		"MITRA_MSG91_FLOW_TEMPLATES": "contact_alert.en=f1", "MITRA_WHATSAPP_PROVIDER": "cloud", "MITRA_WHATSAPP_TOKEN": "tok", "MITRA_WHATSAPP_PHONE_NUMBER_ID": "1065403522"})
	otp, _ = otpSender(cfg, log)
	ts, err = contactSenders(cfg, otp, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.SMS.(*sms.MSG91); !ok || ts.SMSTemplates["contact_alert.en"] != "f1" || len(ts.SMSTemplates) != 1 {
		t.Fatalf("SMS sender %T, templates %v", ts.SMS, ts.SMSTemplates)
	}
	if _, ok := ts.WhatsApp.(*whatsapp.Client); !ok {
		t.Fatalf("WhatsApp sender %T", ts.WhatsApp)
	}
	// A phone number where its id belongs is refused at start.
	cfg.WhatsAppPhoneNumberID = "+6281234567890"
	if _, err := contactSenders(cfg, otp, log); err == nil {
		t.Fatal("a phone number as the phone number id was accepted")
	}
}
