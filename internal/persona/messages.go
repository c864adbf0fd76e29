package persona

import (
	"context"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// The templates of messages to emergency contacts. Each is approved (by
// Meta for WhatsApp, registered for DLT in India for SMS) with exactly these
// words and its variables in this order; Text fills them in for the log and
// for tests.
const (
	// templateInvite asks someone to be an emergency contact. Variables:
	// 1 the user's name, 2 the confirmation link, 3 the code, 4 the link
	// that stops messages (it outlives the confirmation link: a contact
	// who agreed keeps a way to withdraw before any alert).
	templateInvite = "contact_invite"
	// templateAlert asks a confirmed contact to reach out. Variables: 1 the
	// user's name, 2 the emergency number, 3 the link that stops messages.
	templateAlert = "contact_alert"
)

var inviteText = map[string]string{
	"en": "{1} added you as an emergency contact in Mitra, a wellbeing app. If {1} may be in crisis, Mitra may text you so you can check on them; it never shares what they write. To agree, open {2} or give {1} the code {3}. To say no, or to stop messages at any time later: {4}",
	"id": "{1} menambahkan kamu sebagai kontak darurat di Mitra, aplikasi kesejahteraan. Jika {1} mungkin sedang dalam krisis, Mitra dapat mengirimimu pesan agar kamu bisa menanyakan kabarnya; isi tulisannya tidak pernah dibagikan. Untuk setuju, buka {2} atau berikan kode {3} kepada {1}. Untuk menolak, atau berhenti menerima pesan kapan saja nanti: {4}",
}

// alertText follows safe-messaging guidance: who may need support, what to
// do (reach out, call the emergency number if in danger), nothing about
// methods, nothing the person wrote.
var alertText = map[string]string{
	"en": "{1} may need support right now. Please reach out to them today: a call or a visit can help. If they are in immediate danger, call {2}. Mitra does not share what they wrote. To stop these messages: {3}",
	"id": "{1} mungkin sedang butuh dukungan saat ini. Tolong hubungi dia hari ini: telepon atau kunjungan bisa membantu. Jika dia dalam bahaya langsung, hubungi {2}. Mitra tidak membagikan isi tulisannya. Untuk berhenti menerima pesan ini: {3}",
}

// fill puts params into a text's {1}, {2}... places.
func fill(text string, params []string) string {
	pairs := make([]string, 0, 2*len(params))
	for i, p := range params {
		pairs = append(pairs, "{"+string(rune('1'+i))+"}", p)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

func textIn(texts map[string]string, lang string) string {
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts["en"]
}

// someone is how a user without a name is called.
var someone = map[string]string{"en": "Someone you know", "id": "Seseorang yang kamu kenal"}

// localEmergency is said when no emergency number is known.
var localEmergency = map[string]string{"en": "your local emergency number", "id": "nomor darurat setempat"}

// emergencyNumbers are known by heart, for countries whose directory has
// no emergency entry (priority below 10): the one table of emergency
// numbers in the code (emergencyNumberIn, fallbackResources).
var emergencyNumbers = map[string]string{
	"ID": "112", "IN": "112", "US": "911", "GB": "999", "MY": "999", "SG": "995", "PH": "911", "AU": "000",
}

// linkLike matches what a messaging app could turn into a link: a scheme,
// www., or a dotted name ending in letters (example.com, bit.ly/x).
var linkLike = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://\S*|\bwww\.\S*|\S+\.\pL{2,}(?:[/:?#]\S*)?`)

// displayName is a user's chosen name made safe to put in a message to a
// third party: no links (the name is the user's text, the message is
// Mitra's), one line, at most 50 characters.
func displayName(n string) string {
	n = linkLike.ReplaceAllString(n, " ")
	n = strings.Join(strings.Fields(n), " ")
	if r := []rune(n); len(r) > 50 {
		n = strings.TrimSpace(string(r[:50]))
	}
	return n
}

// userName returns the name the user is known by, or "someone" in lang.
func (s *Service) userName(ctx context.Context, userID, lang string) string {
	if s.UserName != nil {
		if n := displayName(s.UserName(ctx, userID)); n != "" && n != "Deleted user" {
			return n
		}
	}
	return textIn(someone, lang)
}

// emergencyNumber returns the emergency number to give a contact: of the
// user's country when known, else of the contact's phone; from the
// resources directory (entries below priority 10), else known by heart,
// else "your local emergency number" in lang.
func (s *Service) emergencyNumber(ctx context.Context, userID, contactPhone, lang string) string {
	country := ""
	if s.Country != nil {
		country = s.Country(ctx, userID)
	}
	if country == "" {
		if num, err := phonenumbers.Parse(contactPhone, ""); err == nil {
			country = phonenumbers.GetRegionCodeForNumber(num)
		}
	}
	if country != "" {
		res, _ := s.Resources(ctx, country)
		if n := emergencyNumberIn(country, res); n != "" {
			return n
		}
	}
	return textIn(localEmergency, lang)
}
