// The SQL that decides a cell's effective label, shared by every query that counts or lists cells.
//
// A cell's decision in force is its latest 'decision' review that no 'retraction' withdrew; the table
// current_decisions holds it, maintained by triggers on reviews. The effective label is that decision's label,
// else the prediction of the case's current model (cases.model_id). Cells without a prediction of that model are
// not listed or counted (before analysis, or while a re-analysis has not reached them).
//
// Every query here costs O(decisions of the case), not O(cells): the model's own counts come from
// prediction_counts (maintained by a trigger on predictions) and are corrected by one pass over the decisions,
// each joined to its prediction through the covering index predictions_image_model_class.
// Parameters: @caseId, @modelId (the case's model_id; NULL before analysis, when nothing counts).
//
// EFFECTIVE_COUNTS_SQL and REVIEW_PROGRESS_SQL are one text for both engines (postgres/ runs them through named()):
// sums are CAST to BIGINT (PostgreSQL's sum of a bigint is numeric, which the driver gives as a string; SQLite's
// CAST to BIGINT is its INTEGER), a boolean is summed as CASE … THEN 1, derived tables have an alias, and a
// mixed-case column name is quoted (PostgreSQL folds unquoted names to lower case).

/** Rows (label, n) with n > 0. Only reclassifications move a cell from its predicted class to another. */
export const EFFECTIVE_COUNTS_SQL = `
WITH reclassified AS MATERIALIZED (
  SELECT p.predicted_class AS predicted, d.label AS label
  FROM current_decisions AS d JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
  WHERE d.case_id = @caseId AND d.label <> p.predicted_class
)
SELECT label, CAST(sum(n) AS BIGINT) AS n FROM (
  SELECT predicted_class AS label, cells AS n FROM prediction_counts WHERE case_id = @caseId AND model_id = @modelId
  UNION ALL
  SELECT predicted AS label, -count(*) AS n FROM reclassified GROUP BY predicted
  UNION ALL
  SELECT label, count(*) AS n FROM reclassified GROUP BY label
) AS parts
GROUP BY label
HAVING sum(n) <> 0`;

export const REVIEW_PROGRESS_SQL = `
SELECT
  (SELECT CAST(coalesce(sum(flagged), 0) AS BIGINT) FROM prediction_counts WHERE case_id = @caseId AND model_id = @modelId) AS flagged,
  CAST(coalesce(sum(p.flagged), 0) AS BIGINT) AS "flaggedReviewed",
  count(*) AS reviewed,
  CAST(coalesce(sum(CASE WHEN d.label <> p.predicted_class THEN 1 ELSE 0 END), 0) AS BIGINT) AS reclassified
FROM current_decisions AS d JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
WHERE d.case_id = @caseId`;

/**
 * One text for both engines, like the others here (postgres/cells.ts runs it through named()); besides their rules,
 * a parameter that is only tested for NULL is CAST to text, as PostgreSQL must know its type.
 *
 * The number of cells listCells would return without paging, also in O(decisions):
 *   total = (model's cells matching the filters) − (decided ones among them) + (decided cells matching the filters)
 * where an effective-class filter matches an undecided cell by its predicted class and a decided one by its label,
 * and the last term is dropped for the 'unreviewed' scope. Extra parameters: @flaggedOnly (0/1),
 * @includeDecided (0/1), @predictedClass and @effectiveClass (NULL = no filter).
 */
export const CELL_TOTAL_SQL = `
SELECT CAST(
  (SELECT coalesce(sum(CASE WHEN @flaggedOnly = 1 THEN flagged ELSE cells END), 0) FROM prediction_counts
     WHERE case_id = @caseId AND model_id = @modelId
       AND (CAST(@predictedClass AS text) IS NULL OR predicted_class = @predictedClass)
       AND (CAST(@effectiveClass AS text) IS NULL OR predicted_class = @effectiveClass))
  - coalesce(sum(CASE WHEN CAST(@effectiveClass AS text) IS NULL OR p.predicted_class = @effectiveClass THEN 1 ELSE 0 END), 0)
  + CASE WHEN @includeDecided = 0 THEN 0
      ELSE coalesce(sum(CASE WHEN CAST(@effectiveClass AS text) IS NULL OR d.label = @effectiveClass THEN 1 ELSE 0 END), 0) END
  AS bigint) AS n
FROM current_decisions AS d JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
WHERE d.case_id = @caseId AND (@flaggedOnly = 0 OR p.flagged = 1)
  AND (CAST(@predictedClass AS text) IS NULL OR p.predicted_class = @predictedClass)`;

/**
 * Rows (label, n) with n > 0: per predicted class, the model's cells that no decision in force covers, i.e. the
 * cells counted on the model's word alone (provisional figures, differential.ts).
 */
export const UNREVIEWED_COUNTS_SQL = `
SELECT label, CAST(sum(n) AS bigint) AS n FROM (
  SELECT predicted_class AS label, cells AS n FROM prediction_counts WHERE case_id = @caseId AND model_id = @modelId
  UNION ALL
  SELECT p.predicted_class AS label, -count(*) AS n
  FROM current_decisions AS d JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = @modelId
  WHERE d.case_id = @caseId GROUP BY p.predicted_class
) AS counted
GROUP BY label
HAVING sum(n) > 0`;
