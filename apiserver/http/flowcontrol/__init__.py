"""API Priority and Fairness: every API request is classified by the FlowSchemas
(matching.py, classifier.py) into a flow of a priority level, and waits for one of
that level's seats (queueset.py: shuffle-sharded queues, fair queuing, 429 when
full); dispatcher.py keeps the configuration current from a watch of the
flowcontrol.apiserver.k8s.io objects and counts what happens (metrics.py)."""
