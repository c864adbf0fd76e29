package insurance

import (
	"context"
	"strings"
	"testing"
	"time"

	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// planQuery is a statement the book runs, to explain.
type planQuery struct {
	name string
	sql  string
	args []any
}

// bookQueries are the list and job statements of every scope, sort and
// common filter.
func bookQueries(t *testing.T, dialect database.Dialect) []planQuery {
	t.Helper()
	agent, provider, customer := ids.New(), ids.New(), ids.New()
	scopes := map[string]Scope{"agent": {AgentID: agent}, "provider admin": {ProviderID: provider}, "administrator": {All: true}}
	var out []planQuery
	cursor := page.Cursor{ID: ids.New(), Sort: "2026-01-01"}
	for name, sc := range scopes {
		for _, sort := range []string{"next_due_date", "-next_due_date", "created_at", "-created_at"} {
			for filter, in := range map[string]PolicyQuery{
				"":          {},
				"status":    {Status: []string{StatusInForce}},
				"agent":     {AgentID: agent},
				"provider":  {ProviderID: provider},
				"customer":  {CustomerID: customer},
				"due range": {Status: []string{StatusInForce}, DueFrom: "2026-01-01", DueTo: "2026-02-01"},
			} {
				if (filter == "customer" || filter == "due range") && !strings.HasSuffix(sort, "next_due_date") {
					continue
				}
				in.Sort = sort
				cur := page.Cursor{}
				if strings.HasSuffix(sort, "next_due_date") {
					cur = cursor
				}
				l, err := policyListQuery(sc, in, cur)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, planQuery{"policies, " + name + ", " + filter + ", " + sort, l.sql, l.args})
			}
		}
		for _, sort := range []string{"name", "-name", "created_at", "-created_at"} {
			for filter, in := range map[string]CustomerQuery{"": {}, "agent": {AgentID: agent}} {
				in.Sort = sort
				l, err := customerListQuery(sc, in, page.Cursor{})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, planQuery{"customers, " + name + ", " + filter + ", " + sort, l.sql, l.args})
			}
		}
	}
	today := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for i, st := range sweepSteps(&SweepResult{}, today) {
		q, args := sweepQuery(st, dialect, "2020-01-01", ids.New())
		out = append(out, planQuery{"sweep step " + st.from + " → " + st.to + " on " + st.col + " #" + string(rune('1'+i)), q, args})
	}
	return out
}

// Every list page and job batch is read in index order: no query sorts
// (on PostgreSQL, with sorts and sequential scans priced out so that an
// index that gives the order is used if there is one).
func TestBookQueriesUseIndexes(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		for _, q := range bookQueries(t, db.Dialect()) {
			var plan []string
			err := db.InTx(ctx, func(tx *database.Tx) error {
				explain := "EXPLAIN QUERY PLAN "
				if tx.Dialect() == database.Postgres {
					explain = "EXPLAIN "
					for _, set := range []string{"SET LOCAL enable_sort = off", "SET LOCAL enable_seqscan = off"} {
						if _, err := tx.Exec(ctx, set); err != nil {
							return err
						}
					}
				}
				rows, err := tx.Query(ctx, explain+q.sql, q.args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var line string
					var id, parent, unused int64
					dest := []any{&line}
					if tx.Dialect() == database.SQLite {
						dest = []any{&id, &parent, &unused, &line}
					}
					if err := rows.Scan(dest...); err != nil {
						return err
					}
					plan = append(plan, line)
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			text := strings.Join(plan, "\n")
			if strings.HasPrefix(q.name, "customers, provider admin") && db.Dialect() == database.SQLite {
				// A provider's customers are those holding its policies: SQLite
				// finds them through (provider_id, customer_id) and sorts them
				// (PostgreSQL may walk the name index instead). No index of
				// customers by provider can exist: it is their policies'.
				continue
			}
			if strings.Contains(text, "ORDER BY") || strings.Contains(text, "Sort") {
				t.Errorf("%s sorts:\n%s\n%s", q.name, q.sql, text)
			}
		}
	})
}
