package persona

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/page"
)

// Conversation is one companion chat.
type Conversation struct {
	ID        string    `json:"id"`
	PersonaID *string   `json:"persona_id"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ChatMessage is a stored message.
type ChatMessage struct {
	ID        string    `json:"id"`
	Role      string    `json:"role" enum:"user,assistant"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"created_at"`
}

// contextBudget is how much history (in bytes of text) goes to the model;
// older messages are replaced by a summary.
const contextBudget = 24_000

var errConversationNotFound = apperr.New(apperr.NotFound, "conversation not found")

func messageAAD(id string) []byte { return []byte("conversation_messages.content:" + id) }
func summaryAAD(id string) []byte { return []byte("conversations.summary:" + id) }

// Prepare implements the chat's conversation store: it finds the caller's
// conversation (creating one when id is ""), stores the incoming user
// message, and returns the conversation's id and what to send to the
// model: a summary of old messages when there is one, then the recent
// history, newest last.
func (s *Service) Prepare(ctx context.Context, p access.Principal, id, personaID string, incoming [][2]string) (string, string, [][2]string, error) {
	var newUser string
	for i := len(incoming) - 1; i >= 0; i-- {
		if incoming[i][0] == "user" {
			newUser = incoming[i][1]
			break
		}
	}
	if newUser == "" {
		return "", "", nil, apperr.Field("body.messages", "must end with a user message")
	}
	now := s.Now()
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		if id == "" && personaID != "" {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM personas WHERE id = ? AND active = ?`, personaID, true).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errPersonaNotFound
			}
		}
		if id == "" {
			id = ids.New()
			title := newUser
			if utf8.RuneCountInString(title) > 60 {
				title = string([]rune(title)[:60]) + "…"
			}
			var pid *string
			if personaID != "" {
				pid = &personaID
			}
			if _, err := tx.Exec(ctx, `INSERT INTO conversations (id, user_id, persona_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, p.UserID, pid, title, now, now); err != nil {
				return err
			}
			// A new conversation keeps the history the client sent (the
			// app's older contract sends it all each time).
			for _, m := range incoming {
				if m[0] == "user" || m[0] == "assistant" {
					if err := s.storeMessage(ctx, tx, id, m[0], m[1], now); err != nil {
						return err
					}
				}
			}
			return nil
		} else {
			res, err := tx.Exec(ctx, `UPDATE conversations SET updated_at = ? WHERE id = ? AND user_id = ?`, now, id, p.UserID)
			if err != nil {
				return err
			}
			if res.RowsAffected() == 0 {
				return errConversationNotFound
			}
			// The conversation keeps the persona it began with.
			var stored *string
			if err := tx.QueryRow(ctx, `SELECT persona_id FROM conversations WHERE id = ?`, id).Scan(&stored); err != nil {
				return err
			}
			personaID = deref(stored)
		}
		return s.storeMessage(ctx, tx, id, "user", newUser, now)
	})
	if err != nil {
		return "", "", nil, err
	}
	send, err := s.history(ctx, id)
	return id, personaID, send, err
}

func (s *Service) storeMessage(ctx context.Context, q database.Querier, convID, role, content string, now time.Time) error {
	mid := ids.New()
	_, err := q.Exec(ctx, `INSERT INTO conversation_messages (id, conversation_id, role, content_sealed, size, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		mid, convID, role, s.Vault.Seal([]byte(content), messageAAD(mid)), len(content), now)
	return err
}

// Reply stores the assistant's answer, off the response path: replies
// are written in batches (every 20 ms, or 128 at a time), one transaction
// per batch, as the AI usage ledger is. Close writes what is pending.
func (s *Service) Reply(ctx context.Context, p access.Principal, convID, content string) {
	if content == "" {
		return
	}
	// The id (a UUIDv7) is taken now, so the reply sorts before the
	// user's next message however late the batch is written.
	r := reply{id: ids.New(), convID: convID, content: content, at: s.Now()}
	s.replies.mu.RLock()
	defer s.replies.mu.RUnlock()
	if s.replies.ch == nil || s.replies.closed {
		s.writeReplies(ctx, []reply{r})
		return
	}
	select {
	case s.replies.ch <- r:
	default:
		s.writeReplies(ctx, []reply{r}) // queue full: write it now
	}
}

type reply struct {
	id, convID, content string
	at                  time.Time
}

// replyWriter batches assistant replies.
type replyWriter struct {
	mu     sync.RWMutex
	ch     chan reply
	done   chan struct{}
	closed bool
}

// StartReplyWriter starts the batching writer of replies; Close stops it.
func (s *Service) StartReplyWriter() {
	s.replies.mu.Lock()
	defer s.replies.mu.Unlock()
	if s.replies.ch != nil {
		return
	}
	s.replies.ch, s.replies.done = make(chan reply, 4096), make(chan struct{})
	go func(ch chan reply, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var batch []reply
		for {
			select {
			case r, ok := <-ch:
				if !ok {
					s.writeReplies(context.Background(), batch)
					return
				}
				if batch = append(batch, r); len(batch) >= 128 {
					s.writeReplies(context.Background(), batch)
					batch = nil
				}
			case <-t.C:
				s.writeReplies(context.Background(), batch)
				batch = nil
			}
		}
	}(s.replies.ch, s.replies.done)
}

// Close writes the pending replies and stops the writer.
func (s *Service) Close() {
	s.replies.mu.Lock()
	if s.replies.ch == nil || s.replies.closed {
		s.replies.mu.Unlock()
		return
	}
	s.replies.closed = true
	close(s.replies.ch)
	done := s.replies.done
	s.replies.mu.Unlock()
	<-done
}

func (s *Service) writeReplies(ctx context.Context, batch []reply) {
	if len(batch) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		for _, r := range batch {
			// Skipped when the conversation was deleted meanwhile.
			if _, err := tx.Exec(ctx, `INSERT INTO conversation_messages (id, conversation_id, role, content_sealed, size, created_at)
				SELECT ?, ?, 'assistant', ?, ?, ? WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)`,
				r.id, r.convID, s.Vault.Seal([]byte(r.content), messageAAD(r.id)), len(r.content), r.at, r.convID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		// One bad reply must not cost the others: write them one by one.
		for _, r := range batch {
			s.writeReplies(ctx, []reply{r})
		}
		return
	}
	if err != nil {
		logging.FromContext(ctx).Error("assistant reply not stored", "conversation_id", batch[0].convID, "err", err)
	}
}

// history returns what goes to the model: the summary, if any (as the
// assistant's own recollection, never with system authority: it was
// written from the user's words), then the newest messages that fit the
// budget. It makes no model call: summarising happens in Compact, after
// the answer.
func (s *Service) history(ctx context.Context, convID string) ([][2]string, error) {
	summary, upto, err := s.summary(ctx, convID)
	if err != nil {
		return nil, err
	}
	msgs, err := s.messagesAfter(ctx, convID, upto)
	if err != nil {
		return nil, err
	}
	keep := fit(msgs)
	var out [][2]string
	if summary != "" {
		out = append(out, [2]string{"assistant", "(My notes from earlier in our conversation: " + summary + ")"})
	}
	for _, m := range msgs[keep:] {
		out = append(out, [2]string{m.Role, m.Content})
	}
	return out, nil
}

// fit returns the index of the first of the newest messages that fit the
// context budget (always at least the newest one).
func fit(msgs []ChatMessage) int {
	total, keep := 0, len(msgs)
	for keep > 0 && total+len(msgs[keep-1].Content) <= contextBudget {
		keep--
		total += len(msgs[keep].Content)
	}
	if keep == len(msgs) && keep > 0 {
		keep--
	}
	return keep
}

func (s *Service) summary(ctx context.Context, convID string) (text, upto string, err error) {
	var sealed, up *string
	if err := s.DB.QueryRow(ctx, `SELECT summary_sealed, summary_upto FROM conversations WHERE id = ?`, convID).Scan(&sealed, &up); err != nil {
		return "", "", fmt.Errorf("persona: summary: %w", err)
	}
	if sealed != nil {
		if b, err := s.Vault.Open(*sealed, summaryAAD(convID)); err == nil {
			text = string(b)
		}
	}
	return text, deref(up), nil
}

// Compact folds the messages that no longer fit the context budget into
// the conversation's summary, through the model when one is available. It
// runs after the answer has gone out.
func (s *Service) Compact(ctx context.Context, p access.Principal, convID string) {
	if s.Model == nil || convID == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	summary, upto, err := s.summary(ctx, convID)
	if err != nil {
		return
	}
	msgs, err := s.messagesAfter(ctx, convID, upto)
	if err != nil {
		return
	}
	keep := fit(msgs)
	if keep == 0 {
		return
	}
	var b strings.Builder
	if summary != "" {
		b.WriteString("Earlier summary: " + summary + "\n")
	}
	for _, m := range msgs[:keep] {
		b.WriteString(m.Role + ": " + m.Content + "\n")
	}
	text := b.String()
	if len(text) > 60_000 {
		text = text[len(text)-60_000:]
	}
	sum, err := s.Model.CompleteText(ctx, p, "Summarise this conversation between a user and an AI companion in at most 150 words, in the conversation's language: what the user shared, how they feel, anything about their safety, and what was suggested. Plain prose, third person.", text, 400)
	if err != nil || sum == "" {
		logging.FromContext(ctx).Warn("conversation not summarised", "err", err)
		return
	}
	if _, err := s.DB.Exec(ctx, `UPDATE conversations SET summary_sealed = ?, summary_upto = ? WHERE id = ?`,
		s.Vault.Seal([]byte(sum), summaryAAD(convID)), msgs[keep-1].ID, convID); err != nil {
		logging.FromContext(ctx).Warn("conversation summary not stored", "err", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Service) messagesAfter(ctx context.Context, convID, after string) ([]ChatMessage, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, role, content_sealed, created_at FROM conversation_messages WHERE conversation_id = ? AND id > ? ORDER BY id`, convID, after)
	if err != nil {
		return nil, fmt.Errorf("persona: messages: %w", err)
	}
	defer rows.Close()
	var out []ChatMessage
	for rows.Next() {
		var m ChatMessage
		var sealed string
		if err := rows.Scan(&m.ID, &m.Role, &sealed, &m.CreatedAt); err != nil {
			return nil, err
		}
		if b, err := s.Vault.Open(sealed, messageAAD(m.ID)); err == nil {
			m.Content = string(b)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Conversations lists the caller's conversations, latest first.
func (s *Service) Conversations(ctx context.Context, limit int, cursor string) ([]Conversation, string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	cur, err := page.Decode(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = page.Limit(limit)
	cond, args := "", []any{p.UserID}
	if cur.ID != "" {
		t, err := time.Parse(time.RFC3339Nano, cur.Sort)
		if err != nil {
			return nil, "", apperr.Field("query.cursor", "malformed cursor")
		}
		cond, args = " AND (updated_at < ? OR (updated_at = ? AND id < ?))", append(args, t, t, cur.ID)
	}
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT id, persona_id, title, created_at, updated_at FROM conversations WHERE user_id = ?%s ORDER BY updated_at DESC, id DESC LIMIT %d`, cond, limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("persona: conversations: %w", err)
	}
	defer rows.Close()
	out := []Conversation{}
	for rows.Next() {
		var c Conversation
		if err := rows.Scan(&c.ID, &c.PersonaID, &c.Title, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = page.Cursor{ID: last.ID, Sort: last.UpdatedAt.Format(time.RFC3339Nano)}.Encode()
	}
	return out, next, rows.Err()
}

// GetConversation returns one of the caller's conversations.
func (s *Service) GetConversation(ctx context.Context, id string) (*Conversation, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var c Conversation
	err = s.DB.QueryRow(ctx, `SELECT id, persona_id, title, created_at, updated_at FROM conversations WHERE id = ? AND user_id = ?`, id, p.UserID).
		Scan(&c.ID, &c.PersonaID, &c.Title, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, database.ErrNoRows) {
		return nil, errConversationNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("persona: conversation: %w", err)
	}
	return &c, nil
}

// RenameConversation changes a conversation's title.
func (s *Service) RenameConversation(ctx context.Context, id, title string) (*Conversation, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	title = strings.TrimSpace(title)
	if title == "" {
		return nil, apperr.Field("body.title", "must not be blank")
	}
	res, err := s.DB.Exec(ctx, `UPDATE conversations SET title = ?, updated_at = ? WHERE id = ? AND user_id = ?`, title, s.Now(), id, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("persona: rename: %w", err)
	}
	if res.RowsAffected() == 0 {
		return nil, errConversationNotFound
	}
	return s.GetConversation(ctx, id)
}

// DeleteConversation deletes a conversation and its messages.
func (s *Service) DeleteConversation(ctx context.Context, id string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	res, err := s.DB.Exec(ctx, `DELETE FROM conversations WHERE id = ? AND user_id = ?`, id, p.UserID)
	if err != nil {
		return fmt.Errorf("persona: delete conversation: %w", err)
	}
	if res.RowsAffected() == 0 {
		return errConversationNotFound
	}
	return nil
}

// Messages lists a conversation's messages, newest first.
func (s *Service) Messages(ctx context.Context, id string, limit int, cursor string) ([]ChatMessage, string, error) {
	if _, err := s.GetConversation(ctx, id); err != nil {
		return nil, "", err
	}
	cur, err := page.Decode(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = page.Limit(limit)
	cond, args := "", []any{id}
	if cur.ID != "" {
		cond, args = " AND id < ?", append(args, cur.ID)
	}
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT id, role, content_sealed, created_at FROM conversation_messages WHERE conversation_id = ?%s ORDER BY id DESC LIMIT %d`, cond, limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("persona: messages: %w", err)
	}
	defer rows.Close()
	out := []ChatMessage{}
	for rows.Next() {
		var m ChatMessage
		var sealed string
		if err := rows.Scan(&m.ID, &m.Role, &sealed, &m.CreatedAt); err != nil {
			return nil, "", err
		}
		if b, err := s.Vault.Open(sealed, messageAAD(m.ID)); err == nil {
			m.Content = string(b)
		}
		out = append(out, m)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = page.Cursor{ID: out[limit-1].ID}.Encode()
	}
	return out, next, rows.Err()
}

// RecentUserMessages returns the conversation's last n user messages,
// oldest first (for the crisis check, beyond the model's context budget).
func (s *Service) RecentUserMessages(ctx context.Context, convID string, n int) []string {
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT id, content_sealed FROM conversation_messages WHERE conversation_id = ? AND role = 'user' ORDER BY id DESC LIMIT %d`, max(1, n)), convID)
	if err != nil {
		logging.FromContext(ctx).Error("recent messages unavailable", "err", err)
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, sealed string
		if rows.Scan(&id, &sealed) != nil {
			return nil
		}
		if b, err := s.Vault.Open(sealed, messageAAD(id)); err == nil {
			out = append(out, string(b))
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
