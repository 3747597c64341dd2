package config

import "time"

// field returns a pointer to the Config field of a dotted key: *string,
// *bool, *time.Duration or *[]string. It returns nil for an unknown key.
func (c *Config) field(key string) any {
	switch key {
	case "api.auth_token":
		return &c.API.AuthToken
	case "api.url":
		return &c.API.URL
	case "api.request_timeout":
		return &c.API.RequestTimeout
	case "logging.file":
		return &c.Logging.File
	case "logging.level":
		return &c.Logging.Level
	case "logging.format":
		return &c.Logging.Format
	}
	return c.Runner.field(key)
}

func (r *Runner) field(key string) any {
	switch key {
	case "runner.name":
		return &r.Name
	case "runner.resource_class":
		return &r.ResourceClass
	case "runner.command_prefix":
		return &r.CommandPrefix
	case "runner.working_directory":
		return &r.WorkingDirectory
	case "runner.cleanup_working_directory":
		return &r.CleanupWorkingDirectory
	case "runner.mode":
		return &r.Mode
	case "runner.max_run_time":
		return &r.MaxRunTime
	case "runner.idle_timeout":
		return &r.IdleTimeout
	case "runner.disable_auto_update":
		return &r.DisableAutoUpdate
	case "runner.ssh.advertise_addr":
		return &r.SSHAdvertiseAddr
	case "runner.task_agent_directory":
		return &r.TaskAgentDirectory
	case "runner.cache_task_agent":
		return &r.CacheTaskAgent
	case "runner.use_home_ssh_dir_for_checkout_keys":
		return &r.UseHomeSSHDirForCheckoutKeys
	case "runner.task_agent_base_url":
		return &r.TaskAgentBaseURL
	case "runner.claim_interval":
		return &r.ClaimInterval
	case "runner.cancel_grace_period":
		return &r.CancelGracePeriod
	}
	return nil
}

// set stores a converted value in the field of a dotted key. The value's
// type must match the field, which convertNode and convertText ensure.
func (c *Config) set(key string, value any) {
	switch p := c.field(key).(type) {
	case *string:
		*p = value.(string)
	case *bool:
		*p = value.(bool)
	case *time.Duration:
		*p = value.(time.Duration)
	case *[]string:
		*p = value.([]string)
	}
}
