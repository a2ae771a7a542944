package boltdb

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// migrations[i] upgrades a database from schema version i+1 to i+2. They run
// in the same write transaction as bucket creation, so a failed migration
// leaves the file as it was.
var migrations = []func(tx *bolt.Tx) error{
	indexDeliveriesByChat, // 1 -> 2
}

// indexDeliveriesByChat backfills deliveries_by_chat from the deliveries
// written before the index existed, so Forget finds them too.
func indexDeliveriesByChat(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketDeliveriesByChat)
	return tx.Bucket(bucketDeliveries).ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			return fmt.Errorf("deliveries key of %d bytes", len(k))
		}
		return idx.Put(deliveryChatKey(decodeChatID(k[8:]), decodeUint(k[:8])), nil)
	})
}

func migrate(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	raw := meta.Get(keySchemaVersion)
	if raw == nil {
		// A new file: everything was just created in the current layout.
		return meta.Put(keySchemaVersion, encodeUint(schemaVersion))
	}
	stored := int(decodeUint(raw))
	if stored > schemaVersion {
		return fmt.Errorf("schema version %d, this program knows up to %d: %w", stored, schemaVersion, storage.ErrSchemaTooNew)
	}
	for v := stored; v < schemaVersion; v++ {
		if err := migrations[v-1](tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return meta.Put(keySchemaVersion, encodeUint(schemaVersion))
}
