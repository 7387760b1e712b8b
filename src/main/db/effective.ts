// The SQL that decides a cell's effective label, shared by every query that counts or lists cells.
//
// A cell's current human decision is its latest 'decision' review that no 'retraction' withdrew. Its effective
// label is that decision's label, else the prediction of the case's current model (cases.model_id). Parameters:
// @caseId, and @modelId = the case's model_id (NULL before analysis: then no prediction counts).

/** CTE `decided(image_id, review_id)`: one row per cell of @caseId with a current decision. */
export const DECIDED_CTE = `decided AS (
  SELECT r.image_id AS image_id, max(r.id) AS review_id
  FROM reviews AS r
  WHERE r.case_id = @caseId AND r.kind = 'decision'
    AND NOT EXISTS (SELECT 1 FROM reviews AS x WHERE x.retracts_review_id = r.id)
  GROUP BY r.image_id
)`;

/**
 * Effective counts per class, computed as the model's counts corrected by the human decisions: the first term
 * reads only the covering index predictions_case_model_class, so the cost grows with the number of decisions, not
 * the number of cells.
 */
export const EFFECTIVE_COUNTS_SQL = `WITH ${DECIDED_CTE}
SELECT label, sum(n) AS n FROM (
  SELECT p.predicted_class AS label, count(*) AS n
  FROM predictions AS p WHERE p.case_id = @caseId AND p.model_id = @modelId
  GROUP BY p.predicted_class
  UNION ALL
  SELECT p.predicted_class AS label, -count(*) AS n
  FROM decided AS d JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
  GROUP BY p.predicted_class
  UNION ALL
  SELECT r.label AS label, count(*) AS n
  FROM decided AS d JOIN reviews AS r ON r.id = d.review_id
  GROUP BY r.label
)
GROUP BY label
HAVING sum(n) <> 0`;

export const REVIEW_PROGRESS_SQL = `WITH ${DECIDED_CTE}
SELECT
  (SELECT count(*) FROM predictions WHERE case_id = @caseId AND model_id = @modelId AND flagged = 1) AS flagged,
  (SELECT count(*) FROM decided AS d JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
     WHERE p.flagged = 1) AS flaggedReviewed,
  (SELECT count(*) FROM decided) AS reviewed,
  (SELECT count(*) FROM decided AS d
     JOIN reviews AS r ON r.id = d.review_id
     JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
     WHERE r.label <> p.predicted_class) AS reclassified`;
