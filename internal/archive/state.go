package archive

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"example.com/icrec"
)

// Every export-uri, playback-uri and download decides rights, which takes
// the recording, the user and the policies: three reads of the store, a
// third of a loaded server's CPU when each request made them. The Service
// keeps what those reads returned in memory, under the store's change
// counters (icrec.Versions): a rights check reads the counters once, and
// whatever the cache holds under the values it reads is current, since the
// store moves a counter in the same transaction as any change it covers,
// whichever process makes it.
//
// A value is filed under the counter as it was read before the value was.
// So a change that lands between the two reads files the newer value under
// the older count, which no later check asks for; the reverse, an old
// value under a new count, which would be served stale, cannot happen.
//
// What the cache returns is shared by every request: read it, never
// change it.

// Bounds on the cache, so that memory does not grow with the catalogue: a
// call with two participants, a workgroup and two attributes takes about
// 1.2 KB as FindRecordingByID returns it, so full, the recordings take
// some 20 MB (more if many are emails with attachments). That is the
// recordings of the last several seconds of a busy server's requests.
// Users are fewer than that in any contact centre, and smaller.
const (
	maxCachedRecordings = 16384
	maxCachedUsers      = 16384
)

// stateCache holds what rights checks read from a store that keeps
// Versions.
type stateCache struct {
	versions   icrec.VersionStore
	policies   versioned[[]*icrec.Policy]  // under Versions.Rights, one entry
	users      versioned[*icrec.User]      // under Versions.Rights, by folded id
	recordings versioned[*icrec.Recording] // under Versions.Recordings, by id
}

// newStateCache returns a cache over the stores, or nil, for a Service
// that reads the store on every check, when the store keeps no Versions or
// the three are not one store: counters can vouch only for their own
// store's tables, and a wrapper (one that injects faults, say) must see
// every call.
func newStateCache(recordings icrec.RecordingStore, policies icrec.PolicyStore, users icrec.UserStore) *stateCache {
	vs, ok := recordings.(icrec.VersionStore)
	if !ok || !sameValue(vs, policies) || !sameValue(vs, users) {
		return nil
	}
	c := &stateCache{versions: vs}
	c.policies.max = 1
	c.users.max = maxCachedUsers
	c.recordings.max = maxCachedRecordings
	return c
}

// sameValue reports whether a and b are one value, without the panic ==
// has for two values of one type that cannot be compared.
func sameValue(a, b any) bool {
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// view is one rights check's reads of the store: through the cache, under
// the counters as read once for the check, or straight from the store
// when the Service has no cache.
type view struct {
	s *Service
	v icrec.Versions
}

// view starts a rights check: it reads the counters, if the Service keeps
// a cache. Read them before anything they cover (see above).
func (s *Service) view(ctx context.Context) (view, error) {
	w := view{s: s}
	if s.cache == nil {
		return w, nil
	}
	v, err := s.cache.versions.Versions(ctx)
	if err != nil {
		return w, fmt.Errorf("archive: %w", err)
	}
	w.v = v
	return w, nil
}

// recording returns the recording whose canonical id is id. Not found is
// not kept: a request for an unknown id costs a read, as before, and ids
// anyone can make up take no room from the recordings in use.
func (w view) recording(ctx context.Context, id string) (*icrec.Recording, error) {
	if w.s.cache == nil {
		return w.s.recordings.FindRecordingByID(ctx, id)
	}
	return cached(ctx, &w.s.cache.recordings, w.v.Recordings, id, w.s.recordings.FindRecordingByID)
}

// user returns the user with id, in any letter case. A User kept in the
// cache may be stale in the fields that do not bear on rights (see
// icrec.Versions.Rights): it is for rights checks only.
func (w view) user(ctx context.Context, id string) (*icrec.User, error) {
	if w.s.cache == nil {
		return w.s.users.FindUserByID(ctx, id)
	}
	return cached(ctx, &w.s.cache.users, w.v.Rights, icrec.FoldID(id), func(ctx context.Context, _ string) (*icrec.User, error) {
		return w.s.users.FindUserByID(ctx, id)
	})
}

// policies returns every policy, in order.
func (w view) policies(ctx context.Context) ([]*icrec.Policy, error) {
	if w.s.cache == nil {
		return w.s.policies.ListPolicies(ctx)
	}
	return cached(ctx, &w.s.cache.policies, w.v.Rights, "", func(ctx context.Context, _ string) ([]*icrec.Policy, error) {
		return w.s.policies.ListPolicies(ctx)
	})
}

// cached returns the value c holds for key under version, or reads it and
// keeps it. Two checks that miss at once both read: no lock is held across
// a read of the store.
func cached[V any](ctx context.Context, c *versioned[V], version int64, key string, read func(context.Context, string) (V, error)) (V, error) {
	if v, ok := c.get(version, key); ok {
		return v, nil
	}
	v, err := read(ctx, key)
	if err != nil {
		return v, err
	}
	c.put(version, key, v)
	return v, nil
}

// versioned holds values read while a counter had one value: a table,
// which a new, empty one replaces when the counter moves, or when it is
// full. Starting over is the simplest bound there is, and a table fills
// again with what is in use within moments.
type versioned[V any] struct {
	max int
	cur atomic.Pointer[table[V]]
}

type table[V any] struct {
	version int64
	n       atomic.Int64 // entries; may pass max by the puts racing to fill the last place
	m       sync.Map     // key → V
}

func (c *versioned[V]) get(version int64, key string) (V, bool) {
	var zero V
	t := c.cur.Load()
	if t == nil || t.version != version {
		return zero, false
	}
	v, ok := t.m.Load(key)
	if !ok {
		return zero, false
	}
	return v.(V), true
}

// put keeps v under version. Values of another version than the table's
// replace the table, older or newer: a check that read the counters just
// before a change may put after one that read them just after, and then
// the next check replaces the table again. That costs a few reads, never a
// stale answer, and needs no assumption about how counters move.
func (c *versioned[V]) put(version int64, key string, v V) {
	t := c.cur.Load()
	if t == nil || t.version != version || t.n.Load() >= int64(c.max) {
		fresh := &table[V]{version: version}
		if !c.cur.CompareAndSwap(t, fresh) {
			return // another check replaced it meanwhile; v can wait for the next miss
		}
		t = fresh
	}
	if _, loaded := t.m.LoadOrStore(key, v); !loaded {
		t.n.Add(1)
	}
}
