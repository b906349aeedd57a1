//! The XPath data model of a body: a root, elements, attributes, text and
//! comments in an arena, with parent links and document order (node ids
//! are given in document order).

use crate::xml_tree::{XDocument, XElement, XNode};

pub(crate) type NodeId = usize;

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Root,
    Element(String),
    Attr(String, String),
    Text(String),
    Comment(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    pub attrs: Vec<NodeId>,
}

#[derive(Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    pub(crate) fn new(doc: &XDocument) -> Tree {
        let mut t = Tree {
            nodes: vec![Node {
                kind: Kind::Root,
                parent: None,
                children: Vec::new(),
                attrs: Vec::new(),
            }],
        };
        for c in &doc.comments {
            let id = t.push(Kind::Comment(c.clone()), 0);
            t.nodes[0].children.push(id);
        }
        let root = t.element(&doc.root, 0);
        t.nodes[0].children.push(root);
        t
    }

    fn push(&mut self, kind: Kind, parent: NodeId) -> NodeId {
        self.nodes.push(Node {
            kind,
            parent: Some(parent),
            children: Vec::new(),
            attrs: Vec::new(),
        });
        self.nodes.len() - 1
    }

    fn element(&mut self, e: &XElement, parent: NodeId) -> NodeId {
        let id = self.push(Kind::Element(e.name.clone()), parent);
        for (n, v) in &e.attrs {
            // Namespace declarations are not attributes in XPath.
            if n == "xmlns" || n.starts_with("xmlns:") {
                continue;
            }
            let a = self.push(Kind::Attr(n.clone(), v.clone()), id);
            self.nodes[id].attrs.push(a);
        }
        for c in &e.children {
            let child = match c {
                XNode::Element(ce) => self.element(ce, id),
                XNode::Text(s) | XNode::CData(s) => self.push(Kind::Text(s.clone()), id),
                XNode::Comment(s) => self.push(Kind::Comment(s.clone()), id),
            };
            self.nodes[id].children.push(child);
        }
        id
    }

    pub(crate) fn node(&self, n: NodeId) -> &Node {
        &self.nodes[n]
    }

    pub(crate) fn descendants(&self, n: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack: Vec<NodeId> = self.nodes[n].children.iter().rev().copied().collect();
        while let Some(m) = stack.pop() {
            out.push(m);
            stack.extend(self.nodes[m].children.iter().rev());
        }
        out
    }

    /// Sorted in document order, without repeats.
    pub(crate) fn in_order(&self, mut v: Vec<NodeId>) -> Vec<NodeId> {
        v.sort_unstable();
        v.dedup();
        v
    }

    pub(crate) fn name(&self, n: NodeId) -> String {
        match &self.nodes[n].kind {
            Kind::Element(e) => e.clone(),
            Kind::Attr(a, _) => a.clone(),
            _ => String::new(),
        }
    }

    /// XPath's string-value.
    pub(crate) fn string_value(&self, n: NodeId) -> String {
        match &self.nodes[n].kind {
            Kind::Attr(_, v) | Kind::Text(v) | Kind::Comment(v) => v.clone(),
            Kind::Root | Kind::Element(_) => self
                .descendants(n)
                .into_iter()
                .filter_map(|d| match &self.nodes[d].kind {
                    Kind::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }
}
