package crisis

import (
	"testing"
	"time"
)

// BenchmarkDetect runs the detector over the corpus (a realistic mix: about
// half negatives, Indonesian, English and code-switched, WhatsApp style). One
// op is one message.
func BenchmarkDetect(b *testing.B) {
	samples := loadCorpus(b)
	texts := make([]string, len(samples))
	for i, s := range samples {
		texts[i] = s.text
	}
	Detect("warm up")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		Detect(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkConversation adds the context rule (one conversation per 12
// messages, state restored each time as a caller would).
func BenchmarkConversation(b *testing.B) {
	samples := loadCorpus(b)
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	var c Conversation
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if i%12 == 0 {
			c = Conversation{}
		}
		c.AssessAt(samples[i%len(samples)].text, t0.Add(time.Duration(i)*time.Second))
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkDetectLong is a long message (about 2 KB of chat).
func BenchmarkDetectLong(b *testing.B) {
	long := ""
	for len(long) < 2000 {
		long += "aku capek banget hari ini, kerjaan numpuk dan bos marah terus. pengen pulang aja rasanya. i'm so tired lol. "
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(long)))
	for i := 0; i < b.N; i++ {
		Detect(long)
	}
}

// BenchmarkDetectRules is BenchmarkDetect with the rules alone (no model), to
// compare in the same run.
func BenchmarkDetectRules(b *testing.B) {
	samples := loadCorpus(b)
	texts := make([]string, len(samples))
	for i, s := range samples {
		texts[i] = s.text
	}
	detectWith("warm up", nil, nil)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		detectWith(texts[i%len(texts)], nil, nil)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkModelScores is the model's share: features and scores of a
// message already tokenised.
func BenchmarkModelScores(b *testing.B) {
	samples := loadCorpus(b)
	e, m := theEngine(), theModel()
	scs := make([]scratch, len(samples))
	for i, s := range samples {
		scs[i].tokenize(s.text)
		e.buildUnits(&scs[i])
		m.scores(e, &scs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.scores(e, &scs[i%len(scs)])
	}
}

// BenchmarkDetectLongRules is BenchmarkDetectLong with the rules alone.
func BenchmarkDetectLongRules(b *testing.B) {
	long := ""
	for len(long) < 2000 {
		long += "aku capek banget hari ini, kerjaan numpuk dan bos marah terus. pengen pulang aja rasanya. i'm so tired lol. "
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(long)))
	for i := 0; i < b.N; i++ {
		detectWith(long, nil, nil)
	}
}
