
/// Which input lines share one teacher question and its answer (``LLMTeacherSpec/groupBy``, `group_by` in a
/// recipe, `distill label --group-by`).
public enum LabelGrouping: String, Sendable, Codable, CaseIterable {
    /// Every distinct text is asked.
    case text
    /// Lines with the same level and masked message (addresses, numbers, ids, paths, times masked) share an answer.
    case line
    /// Lines of one template share an answer, asked once with its first line: masked lines that differ only in
    /// tokens holding digits or placeholders (ids such as `job_1445_0020` or `user42` the masker keeps), or in one
    /// word position where at least 8 different words occur with the rest the same (user and host names). Fewer
    /// distinct words stay apart, so "Connection refused" and "Connection established" are two questions (eight
    /// outcome words in one position with the rest the same would merge; `line` keeps them apart).
    case template

    /// What `distill label` and recipes use when nothing is set.
    public static let standard: LabelGrouping = .template
}
