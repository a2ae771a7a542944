package boltdb

import (
	"cmp"
	"sync"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// userCache keeps the people read lately in memory. Every update reads its
// person (their language, their name to notice a change), and under load
// that read and the decoding of the record were about 6% of the bot's CPU;
// people write far less often than they are read.
//
// It never serves a record older than the file's: a write drops the
// person's entry when its transaction commits (tx.OnCommit), and a read
// fills the cache only if no write of that person committed since the read
// began, so a read that raced a write cannot put back what the write
// replaced. The writes since are told from the last recentWrites people
// written (recent, by epoch); a read older than all of them does not fill.
// Before, any person's write kept every read begun before it from filling,
// and under load, with people written all the time, most reads went to
// the file.
type userCache struct {
	mu     sync.Mutex
	epoch  uint64 // committed writes of people, ever
	recent [recentWrites]int64
	users  map[int64]storage.User
	limit  int // people kept at most; 0 is userCacheSize
}

// recentWrites is how many of the last writes of people a fill can look
// back on: far more than commit while one read runs.
const recentWrites = 256

// userCacheSize bounds the cache: about 200 bytes a person, so 2 MB at most
// however many people the database holds.
const userCacheSize = 10_000

func (c *userCache) get(chatID int64) (storage.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[chatID]
	return u, ok
}

// mark is taken before a read whose result may fill the cache.
func (c *userCache) mark() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// fill keeps u, read after mark was taken, unless a write committed since.
func (c *userCache) fill(u storage.User, mark uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch-mark > recentWrites {
		return
	}
	for e := mark + 1; e <= c.epoch; e++ {
		if c.recent[e%recentWrites] == u.ChatID {
			return
		}
	}
	if c.users == nil {
		c.users = make(map[int64]storage.User)
	}
	if limit := cmp.Or(c.limit, userCacheSize); len(c.users) >= limit {
		for id := range c.users { // any one: map order is random
			delete(c.users, id)
			break
		}
	}
	c.users[u.ChatID] = u
}

// changes registers, in the write transaction tx, that it writes or deletes
// the person chatID: once it commits, their entry goes.
func (c *userCache) changes(tx *bolt.Tx, chatID int64) {
	tx.OnCommit(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.epoch++
		c.recent[c.epoch%recentWrites] = chatID
		delete(c.users, chatID)
	})
}
