package boltdb

// This file is the schema of the database. Every bucket name and every key
// encoder lives here; a change to a key layout needs a migration in
// migrate.go and a bump of schemaVersion in the same commit.
//
// Integers in keys are fixed-width big-endian so that cursor order is numeric
// order. Chat ids are int64 and negative for groups: encodeChatID flips the
// sign bit so negative ids sort before positive ones. Times in keys are 8-byte
// Unix seconds in UTC. Values are JSON of the unexported records in this
// package, never the storage types themselves.
//
//	bucket             key                              value
//	meta               ASCII name                       schema_version (8 bytes), next_offset (8 bytes),
//	                                                    last_update_at (8 bytes Unix seconds)
//	inbox              update_id (8 bytes)              raw update JSON; removed once handled
//	handled            update_id (8 bytes)              handled at (8 bytes Unix seconds); dropped after a day
//	users              chatID (8 bytes)                 userRecord JSON
//	conversations      chatID (8 bytes)                 conversationRecord JSON
//	conversations_by_updated
//	                   updated Unix (8) | chatID (8)    empty; lets housekeeping expire idle dialogues without a scan
//	subscriptions      chatID (8 bytes)                 subscriptionRecord JSON
//	subscriptions_by_topic
//	                   topic code (1) | chatID (8)      empty; only active subscriptions; code 0 = any topic,
//	                                                    1 events, 2 jobs, 3 news (topicCode); audiences walk it
//	broadcasts         broadcastID (8, NextSequence)    broadcastRecord JSON: content, audience, admin chat
//	broadcast_progress broadcastID (8)                  progressRecord JSON: status, total, counts, cursor,
//	                                                    fill position; small, rewritten on every outcome
//	deliveries         broadcastID (8) | chatID (8)     state (1 byte storage.DeliveryState) | lang (2 ASCII)

import (
	"encoding/binary"
	"time"

	"jastar/storage"
)

// schemaVersion is the layout this program reads and writes.
const schemaVersion = 1

var (
	bucketMeta                   = []byte("meta")
	bucketInbox                  = []byte("inbox")
	bucketHandled                = []byte("handled")
	bucketUsers                  = []byte("users")
	bucketConversations          = []byte("conversations")
	bucketConversationsByUpdated = []byte("conversations_by_updated")
	bucketSubscriptions          = []byte("subscriptions")
	bucketSubscriptionsByTopic   = []byte("subscriptions_by_topic")
	bucketBroadcasts             = []byte("broadcasts")
	bucketBroadcastProgress      = []byte("broadcast_progress")
	bucketDeliveries             = []byte("deliveries")
)

// allBuckets are created by Open in one write transaction.
var allBuckets = [][]byte{
	bucketMeta, bucketInbox, bucketHandled, bucketUsers,
	bucketConversations, bucketConversationsByUpdated,
	bucketSubscriptions, bucketSubscriptionsByTopic, bucketBroadcasts, bucketBroadcastProgress, bucketDeliveries,
}

var (
	keySchemaVersion = []byte("schema_version")
	keyNextOffset    = []byte("next_offset")
	keyLastUpdateAt  = []byte("last_update_at")
)

func encodeUint(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func decodeUint(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// encodeChatID flips the sign bit so that negative (group) ids sort first.
func encodeChatID(id int64) []byte { return encodeUint(uint64(id) ^ (1 << 63)) }

func decodeChatID(b []byte) int64 { return int64(decodeUint(b) ^ (1 << 63)) }

// encodeTime stores a time as Unix seconds; times before 1970 clamp to zero.
func encodeTime(t time.Time) []byte {
	s := t.Unix()
	if s < 0 {
		s = 0
	}
	return encodeUint(uint64(s))
}

func decodeTime(b []byte) time.Time { return time.Unix(int64(decodeUint(b)), 0).UTC() }

// compositeKey concatenates fixed-width parts.
func compositeKey(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// topicAny is the index code every active subscription has, so "all
// topics" walks the index like a single topic does.
const topicAny byte = 0

// topicCode maps a topic to its one-byte index code; 0 for unknown topics.
// Codes never change meaning.
func topicCode(t storage.Topic) byte {
	switch t {
	case storage.TopicEvents:
		return 1
	case storage.TopicJobs:
		return 2
	case storage.TopicNews:
		return 3
	}
	return topicAny
}

// topicKey is the subscriptions_by_topic key of chatID under code.
func topicKey(code byte, chatID int64) []byte {
	return compositeKey([]byte{code}, encodeChatID(chatID))
}

// deliveryKey is the deliveries key broadcastID | chatID.
func deliveryKey(broadcastID uint64, chatID int64) []byte {
	return compositeKey(encodeUint(broadcastID), encodeChatID(chatID))
}

// encodeDelivery is a deliveries value: the state byte, then the language.
func encodeDelivery(state storage.DeliveryState, lang storage.Lang) []byte {
	return append([]byte{byte(state)}, lang...)
}

func decodeDelivery(v []byte) (storage.DeliveryState, storage.Lang) {
	if len(v) == 0 {
		return 0, ""
	}
	return storage.DeliveryState(v[0]), storage.Lang(v[1:])
}
