package awscloudtrailreceiver

import "os"

// The generated lifecycle test starts the receiver with the config of
// metadata.yaml (an endpoint on loopback). Without static credentials the
// SDK's default chain would ask the EC2 instance metadata endpoint, whose
// client outlives the test and trips goleak; tests never reach AWS.
func init() {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		if err := os.Setenv(k, v); err != nil {
			panic(err)
		}
	}
}
