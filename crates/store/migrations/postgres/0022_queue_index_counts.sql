-- The queue's index also holds each task's counts, so that `next` passes
-- over the tasks other annotators hold without reading their rows. With
-- 64 annotators at work, the first 64 open tasks in queue order are held
-- (overlap 1), and each `next` read every one of those rows to find
-- `annotation_count + held` already at the overlap. Updating a task's
-- counts now also rewrites its entry here (in the same place: the key
-- starts with the queue position, which does not change).
DROP INDEX IF EXISTS tasks_queue;
CREATE INDEX tasks_queue ON tasks (project_id, queue_key, annotation_count, held, extra_overlap)
    WHERE status <> 'completed';

