"""A tiny kopf operator the tests run against pocketkube (`kopf run --standalone`).

For every Greeting (greetings.ops.pocketkube.test/v1) it creates a ConfigMap of
the same name, owned by the Greeting, holding the greeting text; it writes
status.configMap once the ConfigMap exists and keeps the ConfigMap's text in
step with spec.message on updates.
"""
import kopf
import kubernetes


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.posting.enabled = True
    settings.watching.server_timeout = 60


def _configmap(name: str, message: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"message": message}}


@kopf.on.create("ops.pocketkube.test", "v1", "greetings")
def create_fn(spec, name, namespace, body, patch, logger, **_):
    cm = _configmap(name, spec.get("message", ""))
    kopf.adopt(cm, owner=body)
    kubernetes.config.load_kube_config()
    kubernetes.client.CoreV1Api().create_namespaced_config_map(namespace, cm)
    logger.info("created ConfigMap %s/%s", namespace, name)
    patch.status["configMap"] = name
    patch.status["phase"] = "Ready"


@kopf.on.update("ops.pocketkube.test", "v1", "greetings", field="spec.message")
def update_fn(new, name, namespace, patch, **_):
    kubernetes.config.load_kube_config()
    kubernetes.client.CoreV1Api().patch_namespaced_config_map(name, namespace, {"data": {"message": new}})
    patch.status["observedMessage"] = new
