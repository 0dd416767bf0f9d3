"""The surveys domain: questionnaires as versioned data, surveys and their answers, the aggregates. Pure Python."""
