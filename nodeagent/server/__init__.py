"""The kubelet API: what the API server proxies pods/log, exec, attach and portforward to."""
