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
//	                                                    last_update_at (8 bytes Unix seconds),
//	                                                    compact_owed (1 byte, present only while a Forget
//	                                                    or an Erase waits for its compaction; see compact.go)
//	inbox              update_id (8 bytes)              raw update JSON; removed once handled, or by Erase
//	                                                    (inbox.go) while handled when it must leave no copy
//	handled            update_id (8 bytes)              handled at (8 bytes Unix seconds); dropped after a day
//	users              chatID (8 bytes)                 userRecord JSON
//	conversations      chatID (8 bytes)                 conversationRecord JSON
//	conversations_by_updated
//	                   updated Unix (8) | chatID (8)    empty; open dialogues only; lets housekeeping expire idle
//	                                                    dialogues without a scan
//	conversations_by_expired
//	                   updated Unix (8) | chatID (8)    empty; expired dialogues, whose conversations record keeps
//	                                                    only flow, step and token (expired: true) for a day, so a
//	                                                    late answer hears "expired"; housekeeping drops them by it
//	bookings           bookingID (8, NextSequence)      bookingRecord JSON
//	bookings_by_slot   center (24) | type (24) | start Unix (8) | bookingID (8)
//	                                                    empty; bookings not cancelled: the seats taken,
//	                                                    so a slot's count is a prefix walk of at most its capacity
//	bookings_by_chat   chatID (8) | start Unix (8) | bookingID (8)
//	                                                    empty; every booking of a person, by start ("my bookings");
//	                                                    anonymised bookings (chat_id 0, see Forget) have no entry
//	bookings_by_center_day
//	                   center (24) | start Unix (8) | bookingID (8)
//	                                                    empty; every booking of a center by start (staff day lists)
//	reminders          reminderID (8, NextSequence)     reminderRecord JSON
//	reminders_by_due   due Unix (8) | reminderID (8)    empty; the sweep walks it from the start up to now
//	reminders_by_booking
//	                   bookingID (8) | reminderID (8)   empty; cancel and reschedule find a booking's reminders
//	reminders_by_event
//	                   eventID (8) | chatID (8) | reminderID (8)
//	                                                    empty; unregistering or cancelling an event finds its reminders
//	reminders_inflight reminderID (8)                   reminderRecord JSON; claimed by the sweep right before its
//	                                                    send, out of the other reminder buckets, until the outcome
//	                                                    is settled; one left at start was in flight at a crash
//	reminders_uncertain
//	                   reminderID (8)                   reminderRecord JSON; in flight at a crash (or a panic), so
//	                                                    maybe delivered, never resent; the morning digest lists
//	                                                    their bookings for staff to call, then drops them
//	feedback           bookingID (8)                    feedbackRecord JSON; one per attended booking
//	feedback_by_at     rated at Unix (8) | bookingID (8)
//	                                                    empty; statistics walk feedback by time
//
// Center and type ids (^[a-z0-9_]{1,24}$, checked by the catalog) go into
// keys as 24 bytes, right-padded with zero bytes: fixed width keeps every
// composite key unambiguous and its parts at fixed offsets.

//	events             eventID (8, NextSequence)        eventRecord JSON; cancelled events stay, out of the indexes
//	events_by_start    start Unix (8) | eventID (8)     empty; events not cancelled, for "all upcoming" from a Seek
//	events_by_center   centerID (24) | start Unix (8) | eventID (8)
//	                                                    empty; events not cancelled, for "upcoming at a center"
//	events_by_seed     seedID (24)                      eventID (8); a catalog seed is copied once
//	registrations      eventID (8) | chatID (8)         registrationRecord JSON; one per person and event
//	registrations_by_chat
//	                   chatID (8) | eventID (8)         empty; a person's registrations without a scan
//
// Forget (privacy.go) erases a person, and Erase (inbox.go) an update whose
// text must leave no copy, and each marks meta compact_owed in the same
// transaction; the throttle in compact.go then compacts the file soon:
// bbolt leaves old record versions in freed pages, and only a rewrite of
// the file removes them.
//
// Catalog ids (center and seed ids) are at most 24 bytes of [a-z0-9_]
// (the catalog validates that); in keys they are right-padded with zero bytes
// to exactly 24, so the parts after them stay at fixed offsets.
//	subscriptions      chatID (8 bytes)                 subscriptionRecord JSON
//	subscriptions_by_topic
//	                   topic code (1) | chatID (8)      empty; only active subscriptions; code 0 = any topic,
//	                                                    1 events, 2 jobs, 3 news (topicCode); audiences walk it
//	broadcasts         broadcastID (8, NextSequence)    broadcastRecord JSON: content, audience, admin chat
//	broadcast_progress broadcastID (8)                  progressRecord JSON: status, total, counts, cursor,
//	                                                    fill position; small, rewritten on every outcome
//	broadcast_snapshots
//	                   broadcastID (8)                  the recipients fixed at confirm, in chat order:
//	                                                    chatID (8) | lang (2 ASCII) each; turned into
//	                                                    deliveries a page at a time; deleted when all are
//	                                                    written or the broadcast is cancelled
//	deliveries         broadcastID (8) | chatID (8)     state (1 byte storage.DeliveryState) | lang (2 ASCII)
//	deliveries_by_chat chatID (8) | broadcastID (8)     empty; written with each deliveries entry so Forget
//	                                                    finds a person's deliveries without walking every
//	                                                    broadcast's recipients (schema 2 backfilled it)
//
// A center's staff run it (issue 16; storage/center.go). Every change below
// is logged in the changes bucket in the transaction that makes it. These
// buckets are new ones, which Open creates in any file, and no key of an
// older one changed: schema 2 holds.
//
//	center_cards       center (24) | field code (1)     cardRecord JSON: a card field staff set, with who and
//	                                                    when; absent = the catalog's value (cardFieldCode)
//	closures           closureID (8, NextSequence)      closureRecord JSON; reopened ones stay, out of the index
//	closures_by_center_end
//	                   center (24) | to Unix (8) | closureID (8)
//	                                                    empty; closures in force, by end: the closures that can
//	                                                    still cover a slot starting at t are a Seek to t, a
//	                                                    walk of the center's current and future closures only
//	extra_sessions     sessionID (8, NextSequence)      sessionRecord JSON; deleted when removed (the change log
//	                                                    keeps it)
//	extra_sessions_by_center
//	                   center (24) | start Unix (8) | sessionID (8)
//	                                                    empty; a slot's session starts at most a day before it
//	                                                    (ExtraSession.Validate), so a booking reads a day's worth
//	changes            changeID (8, NextSequence)       changeRecord JSON: who, when, what, before and after;
//	                                                    /changes pages it newest first with a reverse cursor
//
// Polls (issue 18; storage/poll.go) are new buckets too: schema 2 holds. A
// poll is delivered by a broadcast whose record carries its poll_id; an
// answer is one write transaction that writes the answer, its by-chat
// entry and the poll's counts together.
//
//	polls              pollID (8, NextSequence)         pollRecord JSON: texts, options, audience, status, closing
//	                                                    time, broadcast ids; polls are few, DuePolls scans them
//	poll_counts        pollID (8)                       tallyRecord JSON: the live counts, overall, by district and
//	                                                    by language; rewritten with every answer, so results read
//	                                                    one small value, never the answers
//	poll_answers       pollID (8) | chatID (8)          answerRecord JSON: options, other and its text, district
//	                                                    and language at answer time, when; one per person and poll,
//	                                                    so a repeated answer replaces, never adds
//	poll_answers_by_chat
//	                   chatID (8) | pollID (8)          empty; a person's answers for /mydata and Forget
//	poll_answers_anon  pollID (8) | seq (8, NextSequence)
//	                                                    answerRecord JSON without chat, time or free text: the
//	                                                    answers of forgotten people, kept for the CSV so that it
//	                                                    adds up to the counts
//
// Forget moves the person's poll_answers entries to poll_answers_anon and
// drops their by-chat entries; the counts do not change.
//
// Forget deletes the person's deliveries entries outright rather than
// rewriting the chat id inside the keys: a done broadcast keeps its counts
// in broadcast_progress, so an entry of a done broadcast is no longer needed,
// and an entry still pending is one the person must not receive. A
// broadcast's cursor and fill position (broadcast_progress) name a chat as
// well; Forget moves them to the previous chat, or clears them once the
// broadcast no longer needs them.

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// schemaVersion is the layout this program reads and writes.
const schemaVersion = 2

var (
	bucketMeta                   = []byte("meta")
	bucketInbox                  = []byte("inbox")
	bucketHandled                = []byte("handled")
	bucketUsers                  = []byte("users")
	bucketConversations          = []byte("conversations")
	bucketConversationsByUpdated = []byte("conversations_by_updated")
	bucketConversationsByExpired = []byte("conversations_by_expired")
	bucketBookings               = []byte("bookings")
	bucketBookingsBySlot         = []byte("bookings_by_slot")
	bucketBookingsByChat         = []byte("bookings_by_chat")
	bucketBookingsByCenterDay    = []byte("bookings_by_center_day")
	bucketReminders              = []byte("reminders")
	bucketRemindersByDue         = []byte("reminders_by_due")
	bucketRemindersByBooking     = []byte("reminders_by_booking")
	bucketEvents                 = []byte("events")
	bucketEventsByStart          = []byte("events_by_start")
	bucketEventsByCenter         = []byte("events_by_center")
	bucketEventsBySeed           = []byte("events_by_seed")
	bucketRegistrations          = []byte("registrations")
	bucketRegistrationsByChat    = []byte("registrations_by_chat")
	bucketRemindersByEvent       = []byte("reminders_by_event")
	bucketRemindersInFlight      = []byte("reminders_inflight")
	bucketRemindersUncertain     = []byte("reminders_uncertain")
	bucketFeedback               = []byte("feedback")
	bucketFeedbackByAt           = []byte("feedback_by_at")
	bucketSubscriptions          = []byte("subscriptions")
	bucketSubscriptionsByTopic   = []byte("subscriptions_by_topic")
	bucketBroadcasts             = []byte("broadcasts")
	bucketBroadcastProgress      = []byte("broadcast_progress")
	bucketDeliveries             = []byte("deliveries")
	bucketDeliveriesByChat       = []byte("deliveries_by_chat")
	bucketBroadcastSnapshots     = []byte("broadcast_snapshots")
	bucketCenterCards            = []byte("center_cards")
	bucketClosures               = []byte("closures")
	bucketClosuresByCenterEnd    = []byte("closures_by_center_end")
	bucketExtraSessions          = []byte("extra_sessions")
	bucketExtraSessionsByCenter  = []byte("extra_sessions_by_center")
	bucketChanges                = []byte("changes")
	bucketPolls                  = []byte("polls")
	bucketPollCounts             = []byte("poll_counts")
	bucketPollAnswers            = []byte("poll_answers")
	bucketPollAnswersByChat      = []byte("poll_answers_by_chat")
	bucketPollAnswersAnon        = []byte("poll_answers_anon")
)

// allBuckets are created by Open in one write transaction.
var allBuckets = [][]byte{
	bucketMeta, bucketInbox, bucketHandled, bucketUsers,
	bucketConversations, bucketConversationsByUpdated, bucketConversationsByExpired,
	bucketBookings, bucketBookingsBySlot, bucketBookingsByChat, bucketBookingsByCenterDay,
	bucketReminders, bucketRemindersByDue, bucketRemindersByBooking,
	bucketEvents, bucketEventsByStart, bucketEventsByCenter, bucketEventsBySeed,
	bucketRegistrations, bucketRegistrationsByChat,
	bucketRemindersByEvent, bucketFeedback, bucketFeedbackByAt,
	bucketSubscriptions, bucketSubscriptionsByTopic, bucketBroadcasts, bucketBroadcastProgress, bucketDeliveries,
	bucketDeliveriesByChat, bucketBroadcastSnapshots,
	bucketRemindersInFlight, bucketRemindersUncertain,
	bucketCenterCards, bucketClosures, bucketClosuresByCenterEnd, bucketExtraSessions, bucketExtraSessionsByCenter,
	bucketChanges,
	bucketPolls, bucketPollCounts, bucketPollAnswers, bucketPollAnswersByChat, bucketPollAnswersAnon,
}

var (
	keySchemaVersion = []byte("schema_version")
	keyNextOffset    = []byte("next_offset")
	keyLastUpdateAt  = []byte("last_update_at")
	keyCompactOwed   = []byte("compact_owed")
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

// idWidth is the fixed width of a catalog id (center, type) inside a key.
const idWidth = 24

// encodeCatalogID pads a catalog id to idWidth bytes with zero bytes. The
// catalog never yields a longer id; a longer one is cut, which at worst makes
// two such ids share a slot count rather than corrupt a key's layout.
func encodeCatalogID(id string) []byte {
	b := make([]byte, idWidth)
	copy(b, id)
	return b
}

// slotPrefix is the bookings_by_slot prefix of one slot.
func slotPrefix(centerID, typeID string, start time.Time) []byte {
	return compositeKey(encodeCatalogID(centerID), encodeCatalogID(typeID), encodeTime(start))
}

// slotKey is a bookings_by_slot key.
func slotKey(centerID, typeID string, start time.Time, id uint64) []byte {
	return compositeKey(slotPrefix(centerID, typeID, start), encodeUint(id))
}

// chatBookingKey is a bookings_by_chat key.
func chatBookingKey(chatID int64, start time.Time, id uint64) []byte {
	return compositeKey(encodeChatID(chatID), encodeTime(start), encodeUint(id))
}

// centerDayKey is a bookings_by_center_day key.
func centerDayKey(centerID string, start time.Time, id uint64) []byte {
	return compositeKey(encodeCatalogID(centerID), encodeTime(start), encodeUint(id))
}

// dueKey is a reminders_by_due key.
func dueKey(due time.Time, id uint64) []byte { return compositeKey(encodeTime(due), encodeUint(id)) }

// bookingReminderKey is a reminders_by_booking key.
func bookingReminderKey(bookingID, reminderID uint64) []byte {
	return compositeKey(encodeUint(bookingID), encodeUint(reminderID))
}

// checkedCatalogID pads a catalog id with zero bytes to idWidth; ok is
// false for an id that does not fit, which the caller must refuse rather
// than truncate (two ids would collide).
func checkedCatalogID(id string) (key []byte, ok bool) {
	if len(id) == 0 || len(id) > idWidth {
		return nil, false
	}
	k := make([]byte, idWidth)
	copy(k, id)
	return k, true
}

// eventStartKey is the events_by_start key.
func eventStartKey(start time.Time, eventID uint64) []byte {
	return compositeKey(encodeTime(start), encodeUint(eventID))
}

// eventCenterKey is the events_by_center key; center must be encoded.
func eventCenterKey(center []byte, start time.Time, eventID uint64) []byte {
	return compositeKey(center, encodeTime(start), encodeUint(eventID))
}

// registrationKey is the registrations key; its first 8 bytes are the
// event, so a prefix scan lists an event's registrations.
func registrationKey(eventID uint64, chatID int64) []byte {
	return compositeKey(encodeUint(eventID), encodeChatID(chatID))
}

// registrationChatKey is the registrations_by_chat key.
func registrationChatKey(chatID int64, eventID uint64) []byte {
	return compositeKey(encodeChatID(chatID), encodeUint(eventID))
}

// feedbackAtKey is a feedback_by_at key.
func feedbackAtKey(at time.Time, bookingID uint64) []byte {
	return compositeKey(encodeTime(at), encodeUint(bookingID))
}

// eventReminderKey is a reminders_by_event key.
func eventReminderKey(eventID uint64, chatID int64, reminderID uint64) []byte {
	return compositeKey(encodeUint(eventID), encodeChatID(chatID), encodeUint(reminderID))
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

// deliveryChatKey is the deliveries_by_chat key chatID | broadcastID.
func deliveryChatKey(chatID int64, broadcastID uint64) []byte {
	return compositeKey(encodeChatID(chatID), encodeUint(broadcastID))
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

// cardFieldCode maps a card field to its one-byte key code; 0 for unknown
// fields, which are never stored. Codes never change meaning.
func cardFieldCode(f storage.CardField) byte {
	if i := slices.Index(cardFieldCodes, f); i >= 0 {
		return byte(i + 1)
	}
	return 0
}

// cardFieldCodes are the fields by code-1; append only.
var cardFieldCodes = []storage.CardField{
	storage.CardAddressKK, storage.CardAddressRU, storage.CardPhone, storage.CardHours,
	storage.CardPin, storage.CardPhoto, storage.CardNote,
}

// cardField is the field of a code; false for a code this program does
// not know (written by a newer one).
func cardField(code byte) (storage.CardField, bool) {
	if code < 1 || int(code) > len(cardFieldCodes) {
		return "", false
	}
	return cardFieldCodes[code-1], true
}

// cardKey is a center_cards key; center must be encoded.
func cardKey(center []byte, f storage.CardField) []byte {
	return compositeKey(center, []byte{cardFieldCode(f)})
}

// closureEndKey is a closures_by_center_end key; center must be encoded.
func closureEndKey(center []byte, to time.Time, id uint64) []byte {
	return compositeKey(center, encodeTime(to), encodeUint(id))
}

// sessionCenterKey is an extra_sessions_by_center key; center must be
// encoded.
func sessionCenterKey(center []byte, start time.Time, id uint64) []byte {
	return compositeKey(center, encodeTime(start), encodeUint(id))
}

// pollAnswerKey is a poll_answers key; its first 8 bytes are the poll, so
// a prefix walk lists a poll's answers.
func pollAnswerKey(pollID uint64, chatID int64) []byte {
	return compositeKey(encodeUint(pollID), encodeChatID(chatID))
}

// pollChatKey is a poll_answers_by_chat key.
func pollChatKey(chatID int64, pollID uint64) []byte {
	return compositeKey(encodeChatID(chatID), encodeUint(pollID))
}

// pollAnonKey is a poll_answers_anon key.
func pollAnonKey(pollID, seq uint64) []byte { return compositeKey(encodeUint(pollID), encodeUint(seq)) }

// keysWithPrefix copies the keys of b that start with prefix, in order, to
// delete or move them after the walk: bbolt's cursor must not see the bucket
// change under it, and its bytes are valid only inside the transaction.
func keysWithPrefix(b *bolt.Bucket, prefix []byte) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	return keys
}
