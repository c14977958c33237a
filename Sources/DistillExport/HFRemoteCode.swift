/// `modeling_distill.py`, written beside an exported BERT whose pooling `transformers`' own
/// `BertForSequenceClassification` cannot express (mean over the mask, or `[CLS]` without the tanh pooler).
/// The folder's `config.json` names it in `auto_map` with `model_type: distill_bert`, so
/// `AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)` runs Distill's computation,
/// and loading without `trust_remote_code` fails instead of silently building a random pooler.
enum HFRemoteCode {
    static let fileName = "modeling_distill.py"

    static let source = #"""
    """Distill's BERT classifier for Hugging Face transformers: BertModel, then the pooling the model was trained with
    (`distill_pooling`: mean over the attention mask, or the [CLS] vector), then the linear `classifier`.

    Written by `distill export --format hf`. Load with trust_remote_code=True:

        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)  # the config class is defined here
        model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
        logits = model(**tokenizer(texts, padding=True, truncation=True, return_tensors="pt")).logits
    """
    import torch
    from torch import nn
    from transformers import BertConfig, BertModel, BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput


    class DistillBertConfig(BertConfig):
        model_type = "distill_bert"

        def __init__(self, distill_pooling="mean", **kwargs):
            super().__init__(**kwargs)
            self.distill_pooling = distill_pooling


    class DistillBertForSequenceClassification(BertPreTrainedModel):
        config_class = DistillBertConfig

        def __init__(self, config):
            super().__init__(config)
            if config.distill_pooling not in ("mean", "cls"):
                raise ValueError(f"distill_pooling {config.distill_pooling!r}: use BertForSequenceClassification for 'pooler'")
            self.num_labels = config.num_labels
            self.bert = BertModel(config, add_pooling_layer=False)
            self.dropout = nn.Dropout(config.hidden_dropout_prob)
            self.classifier = nn.Linear(config.hidden_size, config.num_labels)
            self.post_init()

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            if self.config.distill_pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            logits = self.classifier(self.dropout(pooled))
            loss = None
            if labels is not None:
                loss = nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
            return SequenceClassifierOutput(loss=loss, logits=logits)
    """#
}
