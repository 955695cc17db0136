package checkpoint

import (
	"context"
	"fmt"
	"strconv"
)

// Object progress: how many records of an object announced by a
// notification were delivered, so that an object read again (its message
// came back) does not send them twice. Without a storage client it is
// kept in memory.

func progressKey(bucket, key string) string { return "object/" + bucket + "/" + key }

// LoadProgress returns the records of an object already delivered.
func (st *Store) LoadProgress(ctx context.Context, bucket, key string) (int, error) {
	if st.client == nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.progress[progressKey(bucket, key)], nil
	}
	b, err := st.client.Get(ctx, progressKey(bucket, key))
	if err != nil || b == nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, fmt.Errorf("decode progress of %s/%s: %w", bucket, key, err)
	}
	return n, nil
}

// SaveProgress stores the records of an object already delivered.
func (st *Store) SaveProgress(ctx context.Context, bucket, key string, n int) error {
	if st.client == nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.progress == nil {
			st.progress = map[string]int{}
		}
		st.progress[progressKey(bucket, key)] = n
		return nil
	}
	return st.client.Set(ctx, progressKey(bucket, key), []byte(strconv.Itoa(n)))
}

// DeleteProgress forgets an object read to the end.
func (st *Store) DeleteProgress(ctx context.Context, bucket, key string) error {
	if st.client == nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		delete(st.progress, progressKey(bucket, key))
		return nil
	}
	return st.client.Delete(ctx, progressKey(bucket, key))
}
