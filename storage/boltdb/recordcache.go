package boltdb

import (
	"cmp"
	"context"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// recordCache keeps records read lately in memory, decoded: people (every
// update reads its person: their language, their name to notice a
// change) and events (every page of the events list and every card reads
// them). Under load those reads and their JSON decoding were about 6% and
// 2% of the bot's CPU, and both are written far less often than read.
//
// It never serves a record older than the file's. A write marks its
// record pending as it writes it (changes): from then until its
// transaction has ended, committed or not (ended, which the handle calls),
// the record is neither served nor filled, since bbolt makes a commit
// visible to readers before its transaction returns. When it ends, the
// entry goes, and a read fills the cache only if no write of that record
// ended since the read began, so a read that raced a write cannot put back
// what the write replaced. The writes since are told from the last
// recentWrites records written (recent, by epoch); a read older than all
// of them does not fill. (Refusing a fill after a write of any record, as
// at first, kept most reads of people from filling under load, when people
// are written all the time.) Reads inside a write transaction never use
// it: they must see the transaction's own writes.
type recordCache[K comparable, V any] struct {
	mu      sync.Mutex
	epoch   uint64 // ended writes of records, ever
	recent  [recentWrites]K
	items   map[K]V
	pending map[K]int        // writes of the record in transactions not yet ended
	byTx    map[*bolt.Tx][]K // the records each such transaction wrote
	limit   int              // records kept at most; 0 is cacheSize
}

// recentWrites is how many of the last writes of records a fill can look
// back on: far more than commit while one read runs.
const recentWrites = 256

// cacheSize bounds each cache: about 200 bytes a person and 500 an event,
// so a few MB at most however many the database holds.
const cacheSize = 10_000

func (c *recordCache[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[key] > 0 {
		var none V
		return none, false
	}
	v, ok := c.items[key]
	return v, ok
}

// mark is taken before a read whose result may fill the cache.
func (c *recordCache[K, V]) mark() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// fill keeps v, the record of key read after mark was taken, unless a
// write of it is pending or has ended since.
func (c *recordCache[K, V]) fill(key K, v V, mark uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[key] > 0 || c.epoch-mark > recentWrites {
		return
	}
	for e := mark + 1; e <= c.epoch; e++ {
		if c.recent[e%recentWrites] == key {
			return
		}
	}
	if c.items == nil {
		c.items = make(map[K]V)
	}
	if limit := cmp.Or(c.limit, cacheSize); len(c.items) >= limit {
		for k := range c.items { // any one: map order is random
			delete(c.items, k)
			break
		}
	}
	c.items[key] = v
}

// readThrough returns the record of key from c when c has it, and otherwise
// reads it with read in a view of db and keeps it in c, unless a write of
// it is pending or ended while it was read.
func readThrough[K comparable, V any](ctx context.Context, db *DB, c *recordCache[K, V], key K, read func(*bolt.Tx) (V, error)) (V, error) {
	if err := ctx.Err(); err != nil {
		var none V
		return none, err
	}
	if v, ok := c.get(key); ok {
		return v, nil
	}
	mark := c.mark()
	v, err := viewOne(ctx, db, read)
	if err == nil {
		c.fill(key, v, mark)
	}
	return v, err
}

// changes registers, in the write transaction tx, that it writes or deletes
// the record of key: the record is pending until tx has ended.
func (c *recordCache[K, V]) changes(tx *bolt.Tx, key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending, c.byTx = make(map[K]int), make(map[*bolt.Tx][]K)
	}
	c.pending[key]++
	c.byTx[tx] = append(c.byTx[tx], key)
	delete(c.items, key)
}

// ended settles the records tx wrote, once it has committed or rolled back.
func (c *recordCache[K, V]) ended(tx *bolt.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range c.byTx[tx] {
		if c.pending[key]--; c.pending[key] <= 0 {
			delete(c.pending, key)
		}
		c.epoch++
		c.recent[c.epoch%recentWrites] = key
		delete(c.items, key)
	}
	delete(c.byTx, tx)
}
