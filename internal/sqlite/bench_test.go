package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/sqlite"
)

// benchDB returns a database with 1000 sessions of 10 users, the first
// with id "1000".
func benchDB(b *testing.B) *sqlite.DB {
	b.Helper()
	d := mustOpen(b, newPath(b), time.Now)
	for u := range 10 {
		if err := d.CreateUser(b.Context(), &icrec.User{ID: fmt.Sprint("agent", u), Roles: []string{"agent"}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		if err := d.CreateSession(b.Context(), newSession(fmt.Sprint(1000+i), fmt.Sprint("agent", i%10))); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// FindSessionByID runs on every authenticated request.
func BenchmarkFindSessionByID(b *testing.B) {
	d := benchDB(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.FindSessionByID(ctx, "1500"); err != nil {
			b.Fatal(err)
		}
	}
}

// Requests arrive in parallel; the reader pool serves them side by side.
func BenchmarkFindSessionByIDParallel(b *testing.B) {
	d := benchDB(b)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.FindSessionByID(ctx, "1500"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TouchSession commits, and so syncs the WAL, once per call.
func BenchmarkTouchSession(b *testing.B) {
	d := benchDB(b)
	ctx := b.Context()
	at := t1
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Millisecond)
		if err := d.TouchSession(ctx, "1500", at); err != nil {
			b.Fatal(err)
		}
	}
}

// FindUserByID runs on every rights check, with the user's roles and
// workgroups.
func BenchmarkFindUserByID(b *testing.B) {
	d := benchDB(b)
	ctx := b.Context()
	if err := d.CreateUser(ctx, &icrec.User{ID: "Supervisor", Roles: []string{"agent", "supervisor"}, Workgroups: []string{"Sales", "Support"}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		u, err := d.FindUserByID(ctx, "supervisor")
		if err != nil || len(u.Roles) != 2 || len(u.Workgroups) != 2 {
			b.Fatal(u, err)
		}
	}
}
