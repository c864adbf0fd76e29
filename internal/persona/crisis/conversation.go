package crisis

import "time"

// cueModel is the context cue of the learned component: its low head reached
// the context margin (decision.ctx).
const cueModel = 1 << 31

// Context limits: a turn counts as recent when it is among the last
// ContextTurns user messages and no older than ContextWindow.
const (
	ContextTurns  = 10
	ContextWindow = 24 * time.Hour
)

// Turn is the remembered assessment of one earlier user message. It holds no
// text.
type Turn struct {
	At       time.Time `json:"at"`
	Level    Level     `json:"level"`
	Category Category  `json:"category"`
	// Carried says the level was carried over from an earlier turn by the
	// learned component's cue (not by the message itself or a rule): such
	// a turn does not carry risk further, so one risky message does not
	// keep the notice coming for the rest of the conversation.
	Carried bool `json:"carried,omitempty"`
}

// Conversation assesses the user messages of one conversation in order and
// remembers recent risk, so that a neutral-looking request naming a means
// ("highest bridge near me?", "jembatan paling tinggi di mana?", "how many
// of my pills would it take", "selamat tinggal semuanya") is raised to at
// least high when the conversation showed risk (low or above) within the
// last ContextTurns messages and ContextWindow. Messages without such a cue
// keep their own level: the detector does not turn "thanks for listening"
// into a crisis. Risk also persists: after a turn at moderate or above (of
// its own, not carried over itself), a message in which the learned
// component sees some risk, though less than it needs on its own ("masih
// lanjut. rasanya tenang"), is at least moderate; not when the rules set a
// trigger in it aside ("i'm not going to jump off the bridge, don't worry")
// or the model set the rules' reading aside.
//
// The zero value is ready to use. Its state is the exported Turns (at most
// ContextTurns, oldest first), so the caller can store it with the
// conversation (it marshals to small JSON) and restore it before the next
// message. A Conversation is not safe for concurrent use.
type Conversation struct {
	Turns []Turn `json:"turns,omitempty"`
}

// Assess assesses the next user message now; see AssessAt.
func (c *Conversation) Assess(text string) Result {
	return c.AssessAt(text, time.Now())
}

// AssessAt assesses the next user message, sent at now, in the context of
// the earlier ones, and records it. The level is never lower than
// Detect(text) gives.
func (c *Conversation) AssessAt(text string, now time.Time) Result {
	r, cues := detect(text)
	return c.apply(r, cues, now)
}

// apply raises the standalone assessment r of a message with context cues
// cues by the recent turns, and records it.
func (c *Conversation) apply(r Result, cues uint32, now time.Time) Result {
	if cues&^cueModel != 0 && r.Level < LevelHigh && !hasSignal(r.Signals, "negated") {
		if peak, cat := c.Recent(now); peak >= LevelLow {
			add := []string{"context:recent_risk"}
			for i, cue := range theEngine().cues {
				if cues&(1<<i) != 0 {
					add = append(add, cue)
				}
			}
			r.Level, r.Category, r.Signals = LevelHigh, cat, contextSignals(r, add...)
		}
	}
	carried := false
	if cues&cueModel != 0 && r.Level < LevelModerate && (r.Level > LevelNone || len(r.Signals) == 0) {
		if peak, cat := c.recent(now, false); peak >= LevelModerate {
			if r.Level > LevelNone {
				cat = r.Category // the message's own reading names what it is about
			}
			r.Level, r.Category, r.Signals, carried = LevelModerate, cat, contextSignals(r, "context:recent_risk", "model"), true
		}
	}
	c.record(now, r, carried)
	return r
}

// Recent returns the highest level among the recent turns at now and its
// category (the latest one at that level); LevelNone and CategoryNone when
// there is none.
func (c *Conversation) Recent(now time.Time) (Level, Category) {
	return c.recent(now, true)
}

// recent is Recent; without carried, turns whose level was carried over
// (Turn.Carried) do not count.
func (c *Conversation) recent(now time.Time, carried bool) (Level, Category) {
	peak, cat := LevelNone, CategoryNone
	n := len(c.Turns)
	for i := max(0, n-ContextTurns); i < n; i++ {
		t := c.Turns[i]
		if now.Sub(t.At) > ContextWindow || !t.Level.Valid() || t.Carried && !carried {
			continue
		}
		if t.Level >= peak && t.Level > LevelNone {
			peak, cat = t.Level, t.Category
		}
	}
	if peak > LevelNone && cat != SelfHarm {
		cat = SuicidalIdeation
	}
	return peak, cat
}

func (c *Conversation) record(now time.Time, r Result, carried bool) {
	c.Turns = append(c.Turns, Turn{At: now, Level: r.Level, Category: r.Category, Carried: carried})
	if n := len(c.Turns); n > ContextTurns {
		c.Turns = append(c.Turns[:0], c.Turns[n-ContextTurns:]...)
	}
}

// contextSignals returns the signals of a message raised by its context: its
// own (when it had a reading; a none result's signals are what the rules set
// aside), then each of add not already there.
func contextSignals(r Result, add ...string) []string {
	var sigs []string
	if r.Level > LevelNone {
		sigs = append(sigs, r.Signals...)
	}
	for _, s := range add {
		if !hasSignal(sigs, s) {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

func hasSignal(sigs []string, s string) bool {
	for _, x := range sigs {
		if x == s {
			return true
		}
	}
	return false
}
