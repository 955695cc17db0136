package checkpoint

import "go.opentelemetry.io/collector/extension/xextension/storage"

// Client returns the storage client (the in-memory stand-in without a
// storage extension), for other state of the receiver kept beside the
// checkpoints under its own key prefix (integrity validation: "integrity/").
func (st *Store) Client() storage.Client { return st.client }
